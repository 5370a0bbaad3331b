#pragma once
// The legacy back end (--legacy-url) asked without holding a thread: a proxied request runs on its
// connection's executor (the I/O threads) as Beast async operations - connect, write, read - under
// one deadline (--legacy-timeout-ms, then 504), on a keep-alive connection from a bounded pool of
// idle ones. With the synchronous LegacyProxy (the shadow comparison's) it shares the circuit
// breaker (open: 503) and the anipipe_http_*{client="legacy"} metrics. At most
// --legacy-max-in-flight requests wait on the legacy at once; beyond it a request is refused at
// once (503, Retry-After) instead of queueing behind a slow legacy. A reused connection the legacy
// had already closed (a stale keep-alive) is retried once on a new one, for idempotent methods
// only: a POST the legacy may have received is never sent twice.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/circuit_breaker.hpp"
#include "http_api.hpp"
#include "migration_settings.hpp"

namespace prometheus {
class Registry;
template <class T>
class Family;
class Counter;
class Histogram;
}  // namespace prometheus

namespace anipipe::edge {

class AsyncProxy {
public:
  using Done = std::function<void(HttpResponse)>;
  /// Resolves the legacy's address now (a name that does not resolve is a startup error); plain http:// only.
  AsyncProxy(const LegacySettings& settings, std::shared_ptr<anipipe::http::CircuitBreaker> breaker, prometheus::Registry* registry);
  ~AsyncProxy();

  /// Sends request to the legacy back end; done runs on executor with the legacy's answer, or the
  /// edge's error (502 no answer, 503 breaker open or too many in flight, 504 deadline).
  void forward(const boost::asio::any_io_executor& executor, const HttpRequest& request, Done done);
  /// Closes the idle connections (before their I/O context goes).
  void close_idle();

private:
  struct Exchange;
  using Stream = boost::beast::tcp_stream;
  std::unique_ptr<Stream> lease();
  void give_back(std::unique_ptr<Stream> stream);
  void count(const char* outcome, double seconds);

  LegacySettings settings_;
  std::chrono::milliseconds connect_timeout_;
  std::string host_, base_path_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  std::shared_ptr<anipipe::http::CircuitBreaker> breaker_;
  std::atomic<std::size_t> in_flight_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Stream>> idle_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Histogram* latency_ = nullptr;
};

}  // namespace anipipe::edge
