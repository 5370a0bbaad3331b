#pragma once
// Webhook calls to the site's Node.js back end, one per new episode, many in flight (a pool of
// keep-alive clients sharing one breaker). Each call is signed so the receiver can verify it:
//   X-Anipipe-Timestamp: unix seconds when the call was made
//   X-Anipipe-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
//   Idempotency-Key:     the new episode's event id (a redelivered call carries the same one)
// Signing the timestamp with the body lets the receiver refuse replays of old calls.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/client_pool.hpp"

namespace prometheus { class Registry; }

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
  };
  Kind kind = Kind::down;
  std::string detail;
};

struct WebhookSettings {
  std::string url;      // full URL of the receiver, e.g. http://127.0.0.1:3000/internal/anilibria/notify
  std::string secret;   // HMAC key
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
/// How an HTTP outcome counts (exposed for unit tests).
WebhookResult classify_webhook_status(int status, std::string_view body);

}  // namespace anipipe::notify
