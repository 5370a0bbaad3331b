#include "edge_worker.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "catalog/title_document.hpp"
#include "event_writer.hpp"
#include "feed_thread.hpp"
#include "json/json_writer.hpp"
#include "live_hub.hpp"
#include "sync_replies.hpp"
#include "title_catalog.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

namespace {

std::optional<std::int64_t> title_id_of(std::optional<std::string_view> key) {
  return key ? catalog::parse_title_id(*key) : std::nullopt;
}

std::shared_ptr<const std::string> push_message(std::string_view type, std::optional<std::int64_t> title_id,
                                                std::optional<std::string_view> data) {
  std::string out;
  json::Writer w(out);
  w.begin_object().field("type", type);
  if (title_id) w.field("title_id", *title_id);
  w.key("data");
  if (data) w.raw(*data);
  else w.null();
  w.end_object();
  return std::make_shared<const std::string>(std::move(out));
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
  LiveHub hub;
  FeedThread titles(feeds, titles_topic, kafka::TopicFollower::From::beginning, [&](const kafka::Message& m) {
    const auto id = title_id_of(m.key());
    if (!id) throw std::invalid_argument("a titles record without a title id key");
    catalog.apply(*id, m.value());
    hub.publish_title(*id, push_message("title_update", id, m.value()));
  });
  FeedThread episodes(feeds, new_episode_topic, kafka::TopicFollower::From::end, [&](const kafka::Message& m) {
    const auto id = title_id_of(m.key());
    if (!id || !m.value()) return;
    const auto sent = hub.publish_title(*id, push_message("new_episode", id, m.value()));
    if (sent > 0) ctx.metrics.observe_freshness("websocket", m.header(kafka::header_names::observed_at).value_or(""));
    spdlog::debug("new_episode of title {} pushed to {} connection(s), {} ms after it was produced", *id, sent,
                  util::now_unix_ms() - m.timestamp_ms());
  });
  FeedThread notifications(feeds, notifications_topic, kafka::TopicFollower::From::end, [&](const kafka::Message& m) {
    if (m.key() && m.value()) hub.publish_user(std::string(*m.key()), push_message("notification", std::nullopt, m.value()));
  });
  SyncReplies replies(feeds, results_topic);
  EventWriter writer(options.kafka, ctx.schemas, "edge", api.produce_timeout);
  // Ready once the catalog is loaded and the live feeds stand at their ends: a push produced after
  // /ready says yes reaches the subscribers, not only one produced after some later moment.
  const auto feeds_ready = [&] { return titles.ready() && episodes.ready() && notifications.ready(); };
  Api handler(api, {catalog, writer, replies, hub, &ctx.metrics.registry(), feeds_ready,
                          [&] { return titles.lag(); }});
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
  return 0;
}

}  // namespace anipipe::edge
