#pragma once
// notify's per-batch flow, for each anilibria.new_episode record of the batch:
//   1. the subscription table catches up with everything published before the batch;
//   2. one Redis PUBLISH anilibria:new_episode (Socket.io), pipelined for the whole batch;
//   3. one signed webhook call to the Node.js back end, the batch's calls in flight at once;
//   4. one anilibria.notifications record per durable subscriber of the title.
// The real-time channels (2, 3) go first for every event, then fan-out runs in rounds of
// --round-size notifications per event, so a title with 100k subscribers delays neither the
// other titles' pushes nor their notifications; librdkafka's bounded queue keeps memory flat.
//
// Outcomes (at least once; offsets are stored by the batch loop only after this returns done):
//  - Redis or Kafka unavailable, the webhook down (no answer, 502/503/504, circuit open): retry
//    the batch later with backoff. What already succeeded for a record is remembered until its
//    offset is stored, so a retry repeats only what failed;
//  - the webhook refuses a call (4xx), or fails it (5xx) --webhook-max-attempts times: the record
//    goes to anilibria.dlq with the reason, its other effects done, and the partition moves on;
//  - a crash: the batch is consumed again and its effects repeated; every notification carries the
//    same idempotency key (title:episode:subscriber) and every webhook call the same
//    Idempotency-Key, so receivers can drop what they already have.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json/schema.hpp"
#include "kafka/producer.hpp"
#include "new_episode.hpp"
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "runtime/record_contract.hpp"
#include "subscriptions.hpp"
#include "webhook_sender.hpp"
#include "topic_names.hpp"

namespace prometheus { class Registry; class Counter; template <class> class Family; }

namespace anipipe::notify {

struct NotifierSettings {
  std::string worker = "notify";
  std::string notifications_topic = topic_names::kNotifications;
  std::string redis_channel = "anilibria:new_episode";
  std::size_t round_size = 1000;
  int webhook_max_attempts = 5;
  std::chrono::milliseconds subscriptions_timeout{30'000};
};

class Notifier final : public runtime::BatchHandler {
public:
  /// webhooks and redis may be null: that channel is off.
  Notifier(NotifierSettings settings, Subscriptions& subscriptions, kafka::Producer& producer, WebhookSender* webhooks,
           redis::Client* redis, const runtime::RecordContract& contract, prometheus::Registry* metrics,
           const std::atomic<bool>& stop);

  runtime::BatchResult handle_batch(const std::vector<const kafka::Message*>& records) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;

private:
  // What is already done for one record, kept until its offset is stored.
  struct Progress {
    bool published = false;
    bool called = false;
    bool fanned_out = false;
    int webhook_failures = 0;
    std::optional<std::string> dead;  // why it goes to the DLQ once everything else is done
  };
  struct Item {
    std::size_t index = 0;  // in the batch
    const kafka::Message* msg = nullptr;
    NewEpisode episode;
    Progress* progress = nullptr;
    // null: no subscribers. Valid for the batch: the table changes only in catch_up, between batches.
    const SubscriptionTable::Audience* audience = nullptr;
    std::string payload;  // the seeds' notify payload: the Redis message and the webhook body
  };

  // Each returns why the batch must be retried, or nullopt.
  std::optional<std::string> publish(std::vector<Item>& items);
  std::optional<std::string> call_webhooks(std::vector<Item>& items);
  std::optional<std::string> fan_out(std::vector<Item>& items);

  NotifierSettings settings_;
  Subscriptions& subscriptions_;
  kafka::Producer& producer_;
  WebhookSender* webhooks_;
  redis::Client* redis_;
  const runtime::RecordContract& contract_;  // headers and the notifications' schema, as every loop applies them
  const std::atomic<bool>& stop_;
  simdjson::dom::parser parser_;
  std::map<std::pair<std::int32_t, std::int64_t>, Progress> progress_;
  prometheus::Family<prometheus::Counter>* effects_ = nullptr;
};

}  // namespace anipipe::notify
