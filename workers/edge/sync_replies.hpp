#pragma once
// Request-reply over Kafka: the edge publishes a sync request with a correlation id and waits for
// the record with that key on anilibria.sync_results, followed from its end. A waiter registers
// before its request is produced, so even an instant reply is not missed. Every request gets a
// reply, a refused one too (status "rejected", the dead letter's reason): only a sync that is down
// or behind leaves a waiter to its timeout.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "feed_thread.hpp"

namespace anipipe::edge {

/// Why sync refused the request this reply answers (status "rejected": it broke the request's
/// contract and was dead-lettered, so no other answer will come), or nullopt for any other reply.
std::optional<std::string> rejection_of(std::string_view reply);

class SyncReplies {
public:
  SyncReplies(const kafka::Settings& settings, const std::string& results_topic);

  class Waiter;
  /// Expect the reply to this correlation id (call before producing the request).
  std::shared_ptr<Waiter> expect(const std::string& correlation_id);
  /// The reply's JSON, or nullopt after timeout. Forgets the waiter either way.
  std::optional<std::string> wait(const std::shared_ptr<Waiter>& waiter, std::chrono::milliseconds timeout);
  bool ready() const { return feed_->ready(); }
  bool wait_ready(std::chrono::milliseconds timeout) const { return feed_->wait_ready(timeout); }

  class Waiter {
    friend class SyncReplies;
    std::string id;
    std::optional<std::string> reply;
  };

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, std::shared_ptr<Waiter>, std::less<>> waiting_;
  std::unique_ptr<FeedThread> feed_;  // last: its thread uses the members above
};

}  // namespace anipipe::edge
