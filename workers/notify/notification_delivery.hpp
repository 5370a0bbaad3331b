#pragma once
// notification_events' records through notify's batch (notifier.hpp): what notify does for them
// besides the Redis message and the webhook call it makes for every kind of record.
//  - claim: each record claims its idempotency key and writes the user's history in one Redis
//    script (notification_history.hpp); a key another record holds makes this one a duplicate,
//    delivered nowhere. The claim is the record's until its TTL ends, so the batch retried, or the
//    record consumed again after a crash, claims it again and completes what is missing.
//  - push: one anilibria.notifications record keyed by the user, which the edge pushes to the
//    user's WebSocket, acknowledged before the batch is done.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "kafka/producer.hpp"
#include "notification_history.hpp"
#include "runtime/record_contract.hpp"
#include "service_notification.hpp"
#include "topic_names.hpp"

namespace prometheus {
class Registry;
class Counter;
template <class>
class Family;
}  // namespace prometheus

namespace anipipe::notify {

struct ServiceSettings {
  std::string notifications_topic = topic_names::kNotifications;  // the edge pushes its records to WebSockets
  std::string redis_channel = "anilibria:notification";           // PUBLISHed for the redis channel
  HistorySettings history;
};

/// What is done for one notification_events record, kept with the batch's retry state.
struct ServiceState {
  enum class Claim { unknown, mine, duplicate } claim = Claim::unknown;
  bool pushed = false;  // its anilibria.notifications record acknowledged (or no websocket channel)
};

/// One record of the batch as the steps below see it.
struct ServiceWork {
  const kafka::Message* msg = nullptr;
  const ServiceNotification* notification = nullptr;
  ServiceState* state = nullptr;
  std::optional<std::string>* dead = nullptr;  // why it goes to the DLQ once everything else is done
};

class ServiceNotifications {
public:
  ServiceNotifications(ServiceSettings settings, redis::Client& redis, kafka::Producer& producer, const runtime::RecordContract& contract,
                       prometheus::Registry* metrics);

  /// Claims every unclaimed one; returns why the batch must be retried (Redis), or nullopt.
  std::optional<std::string> claim(std::vector<ServiceWork>& work);
  /// Produces every claimed one not yet pushed and waits for the acknowledgements; why to retry, or nullopt.
  std::optional<std::string> push(std::vector<ServiceWork>& work, const std::atomic<bool>& stop);
  /// A notification done: delivered, duplicate or dead_lettered.
  void count_outcome(const char* outcome);
  /// One channel's effect, in the style of notify's other effects.
  void count_effect(const char* channel, const char* outcome, double n = 1);
  const ServiceSettings& settings() const { return settings_; }

private:
  ServiceSettings settings_;
  NotificationHistory history_;
  kafka::Producer& producer_;
  const runtime::RecordContract& contract_;
  prometheus::Family<prometheus::Counter>* outcomes_ = nullptr;
  prometheus::Family<prometheus::Counter>* effects_ = nullptr;
};

}  // namespace anipipe::notify
