#include "feed_thread.hpp"

#include <spdlog/spdlog.h>

namespace anipipe::edge {

using namespace std::chrono_literals;

FeedThread::FeedThread(kafka::Settings settings, std::string topic, kafka::TopicFollower::From from,
                       std::function<void(const kafka::Message&)> on_record, Hooks hooks)
    : settings_(std::move(settings)), topic_(std::move(topic)), from_(from), on_record_(std::move(on_record)), hooks_(std::move(hooks)) {
  thread_ = std::thread([this] { run(); });
}

FeedThread::~FeedThread() {
  stop_ = true;
  thread_.join();
}

bool FeedThread::wait_ready(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready_.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void FeedThread::run() {
  // The topic's partitions need the broker: asked here, not in the constructor, and again until
  // they come (a short wait each, so a shutdown is not held up).
  while (!stop_.load() && !follower_) {
    try {
      follower_ = std::make_unique<kafka::TopicFollower>(
          settings_, topic_,
          [this](const kafka::Message& m) {
            try {
              on_record_(m);
              ++applied_;
            } catch (const std::exception& e) {
              ++rejected_;
              spdlog::warn("{}[{}]@{} skipped: {}", m.topic(), m.partition(), m.offset(), e.what());
            }
          },
          from_, 2s);
      if (hooks_.on_follow) hooks_.on_follow(*follower_);
    } catch (const std::exception& e) {
      follower_.reset();
      spdlog::warn("{}: cannot follow it yet ({}); trying again", topic_, e.what());
      std::this_thread::sleep_for(500ms);
    }
  }
  // The first catch-up decides readiness; a broker that is not there yet is waited for.
  while (!stop_.load() && !ready_.load()) {
    try {
      const auto n = follower_->catch_up(30s);
      spdlog::info("{}: caught up ({} records)", topic_, n);
      if (hooks_.on_caught_up) hooks_.on_caught_up(*follower_);
      ready_ = true;
    } catch (const std::exception& e) {
      spdlog::warn("{}: catching up failed ({}); trying again", topic_, e.what());
      std::this_thread::sleep_for(1s);
    }
  }
  while (!stop_.load()) {
    try {
      follower_->poll(100ms);
      lag_ = follower_->lag();
    } catch (const std::exception& e) {
      spdlog::warn("{}: {}", topic_, e.what());
      std::this_thread::sleep_for(200ms);
    }
  }
}

}  // namespace anipipe::edge
