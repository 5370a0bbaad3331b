#pragma once
// Many HTTP calls to one server in flight at once: a fixed set of threads, each with its own
// keep-alive Client (Clients are not thread-safe), all sharing one circuit breaker so the server
// is judged as a whole rather than per connection. sync fetches titles through it, notify calls
// webhooks: the caller hands over a whole batch and gets it back done, about one round trip per
// `concurrency` calls instead of one per call.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/client.hpp"

namespace prometheus {
class Registry;
}

namespace anipipe::http {

class ClientPool {
public:
  /// name labels the clients' metrics. options.shared_breaker is replaced by the pool's own.
  ClientPool(const std::string& base_url, ClientOptions options, std::size_t concurrency, prometheus::Registry* metrics,
             const std::string& name);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  /// Calls task(client, i) for every i in [0, n), up to `concurrency` at once, and returns when all
  /// have returned. One run at a time. task must not throw (catch and record inside it).
  void run(std::size_t n, const std::function<void(Client&, std::size_t)>& task);

  CircuitBreaker::State breaker_state() const { return breaker_->state(); }
  std::size_t concurrency() const { return threads_.size(); }

private:
  struct Slot;
  struct Job {
    std::size_t n = 0;
    const std::function<void(Client&, std::size_t)>* task = nullptr;
    std::atomic<std::size_t> next{0};
  };
  void work(Slot& slot);

  std::shared_ptr<CircuitBreaker> breaker_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  Job* job_ = nullptr;
  std::uint64_t generation_ = 0;
  std::size_t busy_ = 0;
  bool quit_ = false;
};

}  // namespace anipipe::http
