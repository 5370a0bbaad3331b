#include "http/client_pool.hpp"

namespace anipipe::http {

struct ClientPool::Slot {
  Client client;
  std::uint64_t seen = 0;
  Slot(const std::string& base_url, const ClientOptions& o, prometheus::Registry* metrics, const std::string& name)
      : client(base_url, o, metrics, name) {}
};

ClientPool::ClientPool(const std::string& base_url, ClientOptions options, std::size_t concurrency, prometheus::Registry* metrics,
                       const std::string& name)
    : breaker_(std::make_shared<CircuitBreaker>(options.breaker_failures, options.breaker_open_for)) {
  options.shared_breaker = breaker_;
  if (concurrency == 0) concurrency = 1;
  for (std::size_t i = 0; i < concurrency; ++i) slots_.push_back(std::make_unique<Slot>(base_url, options, metrics, name));
  for (auto& slot : slots_) threads_.emplace_back([this, s = slot.get()] { work(*s); });
}

ClientPool::~ClientPool() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ClientPool::work(Slot& slot) {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return quit_ || generation_ != slot.seen; });
      if (quit_) return;
      slot.seen = generation_;
      job = job_;
    }
    for (std::size_t i; (i = job->next.fetch_add(1)) < job->n;) (*job->task)(slot.client, i);
    {
      std::lock_guard lock(mutex_);
      if (--busy_ == 0) finished_.notify_all();
    }
  }
}

void ClientPool::run(std::size_t n, const std::function<void(Client&, std::size_t)>& task) {
  if (n == 0) return;
  Job job;
  job.n = n;
  job.task = &task;
  std::unique_lock lock(mutex_);
  job_ = &job;
  busy_ = threads_.size();
  ++generation_;
  wake_.notify_all();
  finished_.wait(lock, [&] { return busy_ == 0; });
  job_ = nullptr;
}

}  // namespace anipipe::http
