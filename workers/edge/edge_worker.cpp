#include "edge_worker.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <thread>

#include "catalog/title_document.hpp"
#include "event_writer.hpp"
#include "feed_thread.hpp"
#include "kafka_recovery.hpp"
#include "live_hub.hpp"
#include "notification_store.hpp"
#include "push_messages.hpp"
#include "sync_replies.hpp"
#include "title_catalog.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

namespace {

std::optional<std::int64_t> title_id_of(std::optional<std::string_view> key) { return key ? catalog::parse_title_id(*key) : std::nullopt; }

/// What the live topics' feeds tell the hub besides their records: the log's epoch, where they start.
FeedThread::Hooks stream_hooks(LiveHub& hub, Stream stream, const std::string& topic, std::atomic<std::uint32_t>& epoch) {
  return {[&hub, stream, topic, &epoch](const kafka::TopicFollower& f) {
            epoch = epoch_of(f.cluster_id(std::chrono::seconds(2)), topic);
            hub.follow(stream, epoch, static_cast<std::int32_t>(f.positions().size()));
          },
          [&hub, stream](const kafka::TopicFollower& f) { hub.caught_up(stream, f.positions()); }};
}

}  // namespace

int run_edge(const EdgeOptions& o, runtime::WorkerContext ctx) {
  const auto& [options, server, api, titles_topic, new_episode_topic, notifications_topic, results_topic] = o;
  // The feeds long-poll the broker: a read_committed fetch is not always woken by a transaction's
  // commit, so it would wait out fetch.wait.max.ms before a new episode is pushed. 10 ms keeps
  // that hop short, at ~100 empty fetches a second per feed on an idle broker.
  kafka::Settings feeds = options.kafka;
  feeds.overrides.emplace("fetch.wait.max.ms", "10");
  TitleCatalog catalog;
  LiveHub hub({server.ws_history_records, server.ws_history_max_age, server.ws_recovery_max_records, server.ws_partitioner});
  std::atomic<std::uint32_t> episodes_epoch{0}, notifications_epoch{0};
  FeedThread titles(feeds, titles_topic, kafka::TopicFollower::From::beginning, [&](const kafka::Message& m) {
    const auto id = title_id_of(m.key());
    if (!id) throw std::invalid_argument("a titles record without a title id key");
    catalog.apply(*id, m.value());
    hub.publish_title(*id, push_message("title_update", id, std::nullopt, m.value()));  // state, not history: no position
  });
  FeedThread episodes(
      feeds, new_episode_topic, kafka::TopicFollower::From::end,
      [&](const kafka::Message& m) {
        const auto push = new_episode_push(m, episodes_epoch);
        if (!push) return;
        const auto id = push->title_id;
        const auto sent = hub.publish_title(*id, push->message, m.partition(), m.offset());
        if (sent > 0) ctx.metrics.observe_freshness("websocket", m.header(kafka::header_names::observed_at).value_or(""));
        spdlog::debug("new_episode of title {} pushed to {} connection(s), {} ms after it was produced", *id, sent,
                      util::now_unix_ms() - m.timestamp_ms());
      },
      stream_hooks(hub, Stream::titles, new_episode_topic, episodes_epoch));
  FeedThread notifications(
      feeds, notifications_topic, kafka::TopicFollower::From::end,
      [&](const kafka::Message& m) {
        if (auto push = notification_push(m, notifications_epoch)) hub.publish_user(push->key, push->message, m.partition(), m.offset());
      },
      stream_hooks(hub, Stream::notifications, notifications_topic, notifications_epoch));
  // A client behind the in-memory history is replayed from the log, with the feeds' own settings.
  KafkaRecovery recovery(feeds, {new_episode_topic, new_episode_push}, {notifications_topic, notification_push},
                         server.ws_recovery_pending);
  hub.set_recovery(&recovery);
  SyncReplies replies(feeds, results_topic);
  EventWriter writer(options.kafka, ctx.schemas, "edge", api.produce_timeout);
  std::unique_ptr<NotificationStore> notification_store;  // connects on first use: Redis may come later
  if (!api.redis_url.empty()) notification_store = std::make_unique<NotificationStore>(redis::Options::parse(api.redis_url));
  // Ready once the catalog is loaded and the live feeds stand somewhere: a push (and its position)
  // can only be promised from there on.
  const auto feeds_ready = [&] { return titles.ready() && episodes.ready() && notifications.ready(); };
  Api handler(
      api, {catalog, writer, replies, hub, &ctx.metrics.registry(), feeds_ready, [&] { return titles.lag(); }, notification_store.get()});
  hub.set_metrics(handler.metrics());
  writer.set_metrics(handler.metrics());
  HttpServer http(server, handler, hub);
  const auto port = http.start();
  spdlog::info("listening on http://{}:{} ({} I/O threads); catalog loading from {}", server.address, port,
               server.threads ? server.threads : std::thread::hardware_concurrency(), titles_topic);
  while (!ctx.stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    static bool announced = false;
    if (!announced && feeds_ready() && replies.ready()) {
      announced = true;
      spdlog::info("ready: {} titles in the catalog", catalog.size());
    }
  }
  spdlog::info("stopping");
  http.stop();
  recovery.stop();
  return 0;
}

}  // namespace anipipe::edge
