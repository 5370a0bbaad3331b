#pragma once
// tests/webhook_receiver/webhook_receiver.py as a child process: the site's webhook endpoint,
// checking signatures and logging every call. stop() and start() again on the same port play a
// sink that goes down and comes back.
// SeedReceiver: tests/node/notify_receiver.js, the Node.js back end's receiver as seed 001 writes
// it (bearer token, the seed's body), whose accepted credentials a test can change while it runs.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace anipipe::testing {

struct WebhookCallSeen {
  bool verified = false;
  std::string event_id;
  std::string idempotency_key;
  std::string body;  // the JSON body as received (re-serialized)
};

class WebhookReceiver {
public:
  WebhookReceiver(std::string dir, std::string secret, int status = 200);
  /// "http://127.0.0.1:<port>/internal/anilibria/notify"
  std::string url() const;
  void start();
  void stop();
  /// Every call logged so far (across restarts).
  std::vector<WebhookCallSeen> calls() const;

private:
  std::string dir_, secret_;
  int status_ = 200;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

struct SeedCall {
  int status = 0;        // what the receiver answered
  std::string auth;      // "static", "jwt" or "" (refused before knowing)
  std::string error;     // why it was refused
  bool hmac_ok = false;  // X-Anipipe-Signature checked with the HMAC secret
  std::string idempotency_key;
  std::string body;  // the JSON body as received (minified, keys in their order)
  std::string type;  // body.type
  std::int64_t title_id = 0;
  std::string jwt_iss, jwt_service;  // the JWT's claims, when auth is "jwt"
  std::int64_t jwt_iat = 0, jwt_exp = 0;
};

class SeedReceiver {
public:
  struct Accepts {
    std::vector<std::string> tokens;  // static service tokens
    std::string jwt_secret;           // HS256 key of service JWTs (empty: none accepted)
  };
  SeedReceiver(std::string dir, Accepts accepts, std::string hmac_secret);
  /// "http://127.0.0.1:<port>/internal/anilibria/notify"
  std::string url() const;
  /// From now on, accept these credentials (a back end rotating its token or secret).
  void accept(const Accepts& accepts);
  /// Every call logged so far, refused ones included.
  std::vector<SeedCall> calls() const;

private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace anipipe::testing
