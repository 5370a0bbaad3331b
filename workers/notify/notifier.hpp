#pragma once
// notify's per-batch flow. For each anilibria.new_episode record of the batch:
//   1. the subscription table catches up with everything published before the batch;
//   2. one Redis PUBLISH anilibria:new_episode (Socket.io), pipelined for the whole batch;
//   3. one webhook call to the Node.js back end, the batch's calls in flight at once;
//   4. one anilibria.notifications record per durable subscriber of the title.
// For each anilibria.titles record (the catalog, when --title-updates is on) whose document
// differs from its title's previous one (title_changes.hpp): seed 003's title_updated, published
// on its own channel (2) and sent through the same webhook (3); the same document again is done
// without either.
// For each notification_events record (seed 004, when Redis is there: notification_delivery.hpp):
// its idempotency key claimed and the user's history written first (a duplicate stops there), then
// the channels it asks for: PUBLISH on its own channel (2), the webhook (3), and one
// anilibria.notifications record keyed by its user, which the edge pushes to the user's WebSocket.
// The real-time channels (2, 3) go first for every event, then fan-out runs in rounds of
// --round-size notifications per event, so a title with 100k subscribers delays neither the
// other titles' pushes nor their notifications; librdkafka's bounded queue keeps memory flat.
//
// Outcomes (at least once; offsets are stored by the batch loop only after this returns done):
//  - Redis or Kafka unavailable, the webhook down (no answer, 502/503/504, circuit open) or
//    refusing our credentials (401/403): retry the batch later with backoff. What already
//    succeeded for a record is remembered until its offset is stored, so a retry repeats only
//    what failed;
//  - the webhook refuses a call (other 4xx), or fails it (5xx) --webhook-max-attempts times: the
//    record goes to anilibria.dlq with the reason, its other effects done, and the partition moves on;
//  - a crash: the batch is consumed again and its effects repeated; every notification carries the
//    same idempotency key (title:episode:subscriber) and every webhook call the same
//    Idempotency-Key (the episode's event id; title_updated:<title>:<content hash>), so receivers
//    can drop what they already have.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "json/schema.hpp"
#include "kafka/producer.hpp"
#include "new_episode.hpp"
#include "notification_delivery.hpp"  // also declares the prometheus types used below
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "runtime/record_contract.hpp"
#include "subscriptions.hpp"
#include "title_changes.hpp"
#include "title_update.hpp"
#include "topic_names.hpp"
#include "webhook_sender.hpp"

namespace anipipe::notify {

/// The webhook's body: anipipe's payload (the seed's keys and more), or seed 001's keys alone.
enum class WebhookFormat { anipipe, seed001 };

struct NotifierSettings {
  std::string worker = "notify";
  std::string notifications_topic = topic_names::kNotifications;
  std::string titles_topic = topic_names::kTitles;              // its records are title changes
  std::string events_topic = topic_names::kNotificationEvents;  // its records are services' notifications
  std::string redis_channel = "anilibria:new_episode";
  std::string title_redis_channel = "anilibria:title_updated";  // empty: title_updated not published
  WebhookFormat webhook_format = WebhookFormat::anipipe;
  std::size_t round_size = 1000;
  int webhook_max_attempts = 5;
  std::chrono::milliseconds subscriptions_timeout{30'000};
};

class Notifier final : public runtime::BatchHandler {
public:
  /// webhooks and redis may be null: that channel is off. titles null: title changes are not followed;
  /// services null: notification_events is not.
  Notifier(NotifierSettings settings, Subscriptions& subscriptions, kafka::Producer& producer, WebhookSender* webhooks,
           redis::Client* redis, TitleChanges* titles, ServiceNotifications* services, const runtime::RecordContract& contract,
           prometheus::Registry* metrics, const std::atomic<bool>& stop);

  runtime::BatchResult handle_batch(const std::vector<const kafka::Message*>& records) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;

private:
  // What is already done for one record, kept until its offset is stored.
  struct Progress {
    bool published = false;
    bool called = false;
    bool fanned_out = false;
    int webhook_failures = 0;
    std::optional<std::string> dead;  // why it goes to the DLQ once everything else is done
    // A title record is judged once: the judgement moved the title's state on, so a retry of the
    // batch must not judge it again (it would look unchanged). Empty: nothing to announce.
    std::optional<std::optional<std::string>> changed_hash;
    ServiceState service;  // a notification_events record's claim and push
  };
  enum class Kind { new_episode, title_updated, service };
  struct Item {
    std::size_t index = 0;  // in the batch
    const kafka::Message* msg = nullptr;
    Progress* progress = nullptr;
    Kind kind = Kind::new_episode;
    std::string event_id;                        // the webhook's Idempotency-Key
    std::string payload;                         // anipipe's payload: the Redis message
    std::string body;                            // the webhook body in --webhook-format
    NewEpisode episode;                          // new_episode only
    std::optional<ServiceNotification> service;  // service only
    // null: no subscribers. Valid for the batch: the table changes only in catch_up, between batches.
    const SubscriptionTable::Audience* audience = nullptr;
  };
  using ProgressKey = std::tuple<std::string, std::int32_t, std::int64_t>;  // topic, partition, offset

  // Items for the batch's records; a record that cannot be read is dead-lettered in `result`, one
  // with nothing to send has no item.
  std::vector<Item> collect(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result);
  std::optional<Item> episode_item(const kafka::Message& msg);
  std::optional<Item> title_item(const kafka::Message& msg, Progress& progress);
  void judge(const kafka::Message& msg, Progress& progress);
  Item service_item(const kafka::Message& msg, Progress& progress);
  const std::string& redis_channel_of(const Item& item) const;
  std::vector<ServiceWork> service_work(std::vector<Item>& items);
  // Each returns why the batch must be retried, or nullopt.
  std::optional<std::string> publish(std::vector<Item>& items);
  std::optional<std::string> call_webhooks(std::vector<Item>& items);
  std::optional<std::string> fan_out(std::vector<Item>& items);
  // A service item is delivered only by the record that claimed its key: the others leave `items`.
  std::optional<std::string> claim_services(std::vector<Item>& items);
  std::optional<std::string> push_services(std::vector<Item>& items);
  void count_done(const std::vector<Item>& items);
  void count(Kind kind, const char* channel, const char* outcome, double n = 1);

  NotifierSettings settings_;
  Subscriptions& subscriptions_;
  kafka::Producer& producer_;
  WebhookSender* webhooks_;
  redis::Client* redis_;
  TitleChanges* titles_;
  ServiceNotifications* services_;
  const runtime::RecordContract& contract_;  // headers and the notifications' schema, as every loop applies them
  const std::atomic<bool>& stop_;
  simdjson::dom::parser parser_;
  std::map<ProgressKey, Progress> progress_;
  prometheus::Family<prometheus::Counter>* effects_ = nullptr;        // new_episode's, by channel and outcome
  prometheus::Family<prometheus::Counter>* title_effects_ = nullptr;  // title_updated's, the same
  prometheus::Family<prometheus::Counter>* title_changes_ = nullptr;  // catalog records by verdict
};

}  // namespace anipipe::notify
