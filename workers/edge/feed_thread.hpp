#pragma once
// One topic followed on a thread of its own (kafka::TopicFollower): the catalog from the whole
// of anilibria.titles, the live pushes and request-reply from the end of their topics. ready()
// once the first catch-up is done (for the catalog: every title present at start is loaded).
// Everything that needs the broker happens on that thread, retried until it works: an edge
// started during a broker outage listens at once (not ready, /ready says so) instead of failing.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "kafka/topic_follower.hpp"

namespace anipipe::edge {

class FeedThread {
public:
  /// On the feed's thread too: once the topic is followed (before any record; an exception means
  /// the broker is not there yet: tried again), and once the first catch-up is done.
  struct Hooks {
    std::function<void(const kafka::TopicFollower&)> on_follow, on_caught_up;
  };
  /// on_record runs on the feed's thread; an exception from it is logged and the record skipped.
  FeedThread(kafka::Settings settings, std::string topic, kafka::TopicFollower::From from,
             std::function<void(const kafka::Message&)> on_record, Hooks hooks = {});
  ~FeedThread();
  FeedThread(const FeedThread&) = delete;
  FeedThread& operator=(const FeedThread&) = delete;

  bool ready() const { return ready_.load(); }
  /// Blocks until ready (or the timeout); true if ready.
  bool wait_ready(std::chrono::milliseconds timeout) const;
  std::uint64_t applied() const { return applied_.load(); }
  std::uint64_t rejected() const { return rejected_.load(); }
  /// Records published but not yet applied, as of the last fetch.
  std::int64_t lag() const { return lag_.load(); }

private:
  void run();

  kafka::Settings settings_;
  std::string topic_;
  kafka::TopicFollower::From from_;
  std::function<void(const kafka::Message&)> on_record_;
  Hooks hooks_;
  std::unique_ptr<kafka::TopicFollower> follower_;
  std::atomic<bool> ready_{false}, stop_{false};
  std::atomic<std::uint64_t> applied_{0}, rejected_{0};
  std::atomic<std::int64_t> lag_{0};
  std::thread thread_;
};

}  // namespace anipipe::edge
