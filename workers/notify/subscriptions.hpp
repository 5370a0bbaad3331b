#pragma once
// The subscription table kept current from anilibria.subscriptions (read whole, then followed).
// A malformed subscription is logged and counted, not dead-lettered: every instance reads the
// whole topic at every start, so each would dead-letter it again; the producers (the edge, the
// Node.js back end) validate before publishing, and the record stays in the topic for inspection.
#include <chrono>
#include <memory>
#include <string>

#include "kafka/settings.hpp"
#include "kafka/topic_follower.hpp"
#include "subscription_table.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace anipipe::notify {

class Subscriptions {
public:
  Subscriptions(const kafka::Settings& settings, const std::string& topic, prometheus::Registry* metrics);

  /// Applies everything published to the topic before this call (read-your-writes for the fan-out
  /// that follows). Throws if the broker does not answer within timeout.
  void catch_up(std::chrono::milliseconds timeout);
  const SubscriptionTable& table() const { return table_; }

private:
  SubscriptionTable table_;
  prometheus::Counter* rejected_ = nullptr;
  prometheus::Gauge* size_ = nullptr;
  std::unique_ptr<kafka::TopicFollower> follower_;  // last: its first read fills the table above
};

}  // namespace anipipe::notify
