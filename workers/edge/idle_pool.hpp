#pragma once
// Connections that are not thread-safe (an HTTP keep-alive client, a Redis connection) shared by
// the request threads: a thread leases an idle one, or a new one when none is idle, and gives it
// back when done, so there are never more than the threads that use them at once.
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace anipipe::edge {

template <class T>
class IdlePool {
public:
  explicit IdlePool(std::function<std::unique_ptr<T>()> make) : make_(std::move(make)) {}

  struct Return {
    IdlePool* pool;
    void operator()(T* t) const {
      std::lock_guard lock(pool->mutex_);
      pool->idle_.emplace_back(t);
    }
  };
  using Lease = std::unique_ptr<T, Return>;

  Lease lease() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto t = std::move(idle_.back());
        idle_.pop_back();
        return Lease(t.release(), Return{this});
      }
    }
    return Lease(make_().release(), Return{this});
  }

private:
  std::function<std::unique_ptr<T>()> make_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace anipipe::edge
