#pragma once
// Webhook calls to the site's Node.js back end, one per new episode, many in flight (a pool of
// keep-alive clients sharing one breaker). Each call is signed so the receiver can verify it:
//   X-Anipipe-Timestamp: unix seconds when the call was made
//   X-Anipipe-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
//   Idempotency-Key:     the new episode's event id (a redelivered call carries the same one)
// Signing the timestamp with the body lets the receiver refuse replays of old calls.
// The back end written to seed 001 checks `Authorization: Bearer <internal service token>` instead:
// a configured static token, or an HS256 JWT signed per call (short-lived, so a leaked header is
// worth little). The signature is sent as well.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client_pool.hpp"

namespace prometheus {
class Registry;
}

namespace anipipe::notify {

struct WebhookCall {
  std::string event_id;
  std::string body;
};

struct WebhookResult {
  enum class Kind {
    delivered,  // 2xx
    rejected,   // the receiver refused this call (4xx): sending it again cannot help
    failed,     // the receiver answered, but with an error after the client's retries (500, ...)
    down,       // no answer, circuit open, or 502/503/504/408/429: the sink is away, wait for it
    // 401/403: our credentials were refused. Every call would be, so skipping them would lose
    // every episode until someone fixes the token; wait for it instead, like a sink that is away.
    unauthorized,
  };
  Kind kind = Kind::down;
  std::string detail;
};

/// Authorization: Bearer, as seed 001's back end checks it (at most one of token and jwt_secret).
struct WebhookAuth {
  std::string token;                          // a static internal service token
  std::string jwt_secret;                     // HS256 key: a JWT is signed for every call
  std::string jwt_issuer = "anipipe-notify";  // its iss, sub and service (the seed checks service)
  std::chrono::seconds jwt_ttl{60};           // exp - iat
};

struct WebhookSettings {
  std::string url;     // full URL of the receiver, e.g. http://127.0.0.1:3000/internal/anilibria/notify
  std::string secret;  // HMAC key
  WebhookAuth auth;
  std::size_t concurrency = 8;
  http::ClientOptions client;
};

class WebhookSender {
public:
  WebhookSender(WebhookSettings settings, prometheus::Registry* metrics);

  /// Sends every call, up to `concurrency` at once; results in the order of calls.
  std::vector<WebhookResult> send(const std::vector<WebhookCall>& calls, const std::atomic<bool>& stop);

private:
  WebhookSettings settings_;
  std::string target_;
  http::ClientPool pool_;
};

/// The X-Anipipe-Signature value for a body sent at unix_seconds.
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);
/// The Authorization header for a call made at unix_seconds; nullopt when no token is configured.
std::optional<std::string> webhook_authorization(const WebhookAuth& auth, std::int64_t unix_seconds);
/// How an HTTP outcome counts (exposed for unit tests).
WebhookResult classify_webhook_status(int status, std::string_view body);

}  // namespace anipipe::notify
