#pragma once
// Background work that must never slow down the request it came from: a bounded queue served by
// a few threads of its own. When the queue is full the work is dropped (the caller counts it),
// never waited for; on shutdown what is still queued is dropped too.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace anipipe::edge {

class ShadowRunner {
public:
  ShadowRunner(std::size_t threads, std::size_t queue_max);
  ~ShadowRunner();
  ShadowRunner(const ShadowRunner&) = delete;
  ShadowRunner& operator=(const ShadowRunner&) = delete;

  /// False (and job not run) when the queue is full. job must not throw.
  bool submit(std::function<void()> job);

private:
  void work();

  std::size_t queue_max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool quit_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace anipipe::edge
