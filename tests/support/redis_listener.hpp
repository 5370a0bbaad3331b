#pragma once
// A Redis pub/sub subscriber for integration tests (like every Node.js and edge process has):
// collects the payloads published on one channel, on its own thread, until `expect` arrived.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "redis/client.hpp"

namespace anipipe::testing {

/// The test redis-server: 127.0.0.1 and $ANIPIPE_REDIS_PORT (default 6379).
inline redis::Options test_redis_options() {
  redis::Options o;
  if (const char* p = std::getenv("ANIPIPE_REDIS_PORT"); p && *p) o.port = std::atoi(p);
  return o;
}

class ChannelListener {
public:
  /// Returns once subscribed: anything published afterwards is received.
  ChannelListener(const std::string& channel, std::size_t expect) {
    thread_ = std::thread([this, channel, expect] {
      auto o = test_redis_options();
      o.command_timeout = std::chrono::seconds(60);
      redis::Client sub(o);
      sub.command({"SUBSCRIBE", channel});
      subscribed_ = true;
      try {
        while (count_.load() < expect) {
          auto m = sub.read();  // ["message", channel, payload]
          if (m.elements.size() != 3) continue;
          std::lock_guard lock(mutex_);
          messages_.push_back(m.elements[2].str);
          ++count_;
        }
      } catch (const std::exception&) {
      }
    });
    if (!eventually([&] { return subscribed_.load(); }, std::chrono::seconds(5))) {
      thread_.detach();
      throw std::runtime_error("could not subscribe to " + channel);
    }
  }
  /// Waits for the expected messages (or the 60 s read timeout).
  ~ChannelListener() { thread_.join(); }
  std::size_t count() const { return count_.load(); }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

private:
  std::thread thread_;
  std::atomic<bool> subscribed_{false};
  std::atomic<std::size_t> count_{0};
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

}  // namespace anipipe::testing
