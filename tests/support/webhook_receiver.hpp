#pragma once
// tests/webhook_receiver/webhook_receiver.py as a child process: the site's webhook endpoint,
// checking signatures and logging every call. stop() and start() again on the same port play a
// sink that goes down and comes back.
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

}  // namespace anipipe::testing
