#pragma once
// The one HTTP(S) client (Boost.Beast + OpenSSL) for the upstream API and webhooks:
//  - keep-alive: one connection per client, reused until the server closes it;
//  - connect and whole-request timeouts;
//  - retries with jittered exponential backoff on transport errors, 5xx and 429, honouring
//    Retry-After (seconds or an HTTP date), bounded by max_retries;
//  - a circuit breaker (default: open after 5 consecutive failures, half-open after 30 s);
//  - metrics: requests by outcome, latency, retries, breaker state.
// Synchronous: the caller's thread runs the I/O (ingest polls from one thread; notify fans out
// from its own). Not thread-safe: one Client per thread.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "http/circuit_breaker.hpp"

namespace prometheus {
class Registry;
}

namespace anipipe::http {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // base path without a trailing slash, e.g. "/api/v1"
  /// http://host[:port][/path] or https://...; throws std::invalid_argument otherwise.
  static Url parse(std::string_view url);
};

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int attempts = 1;
};

/// A request of any method (Client::send): target is appended to the base URL; headers replace
/// the client's defaults of the same name.
struct Request {
  std::string_view method = "GET";
  std::string_view target;
  std::string_view body;
  std::map<std::string, std::string> headers;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{15'000};
  int max_retries = 3;
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10'000};
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_for{30'000};
  /// Set when several clients (threads) talk to one upstream: they share its breaker, and the
  /// two settings above are then the shared breaker's business.
  std::shared_ptr<CircuitBreaker> shared_breaker;
  std::string user_agent = "anipipe/0.1";
  std::size_t max_body_bytes = 64u << 20;
};

/// A request that did not produce a usable answer: the circuit is open, or every attempt failed
/// (transport error, 5xx, 429). A 4xx other than 429 is an answer, returned, not thrown.
class HttpError : public std::runtime_error {
public:
  enum class Kind { circuit_open, transport, status };
  HttpError(Kind k, int status, const std::string& what) : std::runtime_error(what), kind(k), status(status) {}
  Kind kind;
  int status;
};

class Client {
public:
  /// name labels the metrics ("upstream", "webhook", ...); metrics may be null.
  Client(const std::string& base_url, ClientOptions options = {}, prometheus::Registry* metrics = nullptr, std::string name = "upstream");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// GET base_url + target ("/anime/releases/latest?limit=50"). Retries; stops early if *stop is set.
  Response get(std::string_view target, const std::atomic<bool>* stop = nullptr);
  /// POST a body (webhooks).
  Response post(std::string_view target, std::string_view body, std::string_view content_type,
                const std::map<std::string, std::string>& headers = {}, const std::atomic<bool>* stop = nullptr);

  /// Any method, for a proxy: every status is returned (a 5xx or 429 too), never retried; only an
  /// open circuit or a transport failure throws. The breaker counts transport failures and
  /// 502/503/504 (a 500 is the server's answer to that request, not a sign it is down). A transport
  /// failure is retried only for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS): a POST the
  /// server may have received is never sent twice.
  Response send(const Request& request, const std::atomic<bool>* stop = nullptr);

  CircuitBreaker::State breaker_state() const { return breaker_->state(); }
  const Url& base() const { return base_; }

private:
  struct Impl;
  /// answer_any_status: send()'s rules (every status returned, retries only when idempotent).
  Response perform(const Request& request, bool answer_any_status, const std::atomic<bool>* stop);

  Url base_;
  ClientOptions options_;
  std::shared_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<Impl> impl_;
};

/// Parses a Retry-After value (delta seconds or an IMF-fixdate); nullopt if unusable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace anipipe::http
