// anipipe-edge: the thin HTTP/WebSocket front. Reads anilibria.titles whole into memory (the
// catalog), follows anilibria.new_episode and anilibria.notifications for live pushes and
// anilibria.sync_results for request-reply; produces anilibria.sync_requests,
// anilibria.subscriptions and anilibria.cache_invalidations.
#include <spdlog/spdlog.h>

#include <charconv>
#include <thread>

#include "catalog/title_document.hpp"
#include "config/options.hpp"
#include "demo_page.hpp"
#include "event_writer.hpp"
#include "feed_thread.hpp"
#include "http_api.hpp"
#include "http_server.hpp"
#include "json/json_writer.hpp"
#include "runtime/worker_process.hpp"
#include "sync_replies.hpp"
#include "util/clock.hpp"

namespace {

std::optional<std::int64_t> title_id_of(std::optional<std::string_view> key) {
  return key ? anipipe::catalog::parse_title_id(*key) : std::nullopt;
}

std::shared_ptr<const std::string> push_message(std::string_view type, std::optional<std::int64_t> title_id,
                                                std::optional<std::string_view> data) {
  std::string out;
  anipipe::json::Writer w(out);
  w.begin_object().field("type", type);
  if (title_id) w.field("title_id", *title_id);
  w.key("data");
  if (data) w.raw(*data);
  else w.null();
  w.end_object();
  return std::make_shared<const std::string>(std::move(out));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace anipipe;
  CLI::App app{"anipipe-edge: the HTTP/WebSocket front: titles from an in-memory catalog, live pushes, an internal API that produces events"};
  config::WorkerOptions options;
  options.kafka.client_id = "anipipe-edge";
  options.metrics_addr = "off";  // /metrics is served on the edge's own port
  edge::ServerSettings server;
  edge::ApiSettings api;
  std::string listen = "127.0.0.1:8080", cors;
  std::string titles_topic = "anilibria.titles", new_episode_topic = "anilibria.new_episode",
              notifications_topic = "anilibria.notifications", results_topic = "anilibria.sync_results";
  std::int64_t miss_wait_ms = api.miss_wait.count(), request_timeout_ms = server.request_timeout.count();
  config::add_process_options(app, options);
  app.add_option("--listen", listen, "host:port for HTTP and WebSocket")->envname("ANIPIPE_EDGE_LISTEN")->capture_default_str();
  app.add_option("--threads", server.threads, "I/O threads (0: one per core)")->envname("ANIPIPE_EDGE_THREADS")->capture_default_str();
  app.add_option("--service-secret", api.service_secret, "HS256 key of service tokens for /internal/* (required)")
      ->envname("ANIPIPE_EDGE_SERVICE_SECRET")->required();
  app.add_option("--user-secret", api.user_secret,
                 "HS256 key of user tokens on the WebSocket (empty: anonymous connections only); must differ from --service-secret")
      ->envname("ANIPIPE_EDGE_USER_SECRET");
  std::int64_t service_token_max_lifetime_s = api.service_token_max_lifetime.count();
  app.add_option("--service-token-max-lifetime-s", service_token_max_lifetime_s,
                 "A service token must expire (exp) within this many seconds of its iat (or of now)")
      ->envname("ANIPIPE_EDGE_SERVICE_TOKEN_MAX_LIFETIME_S")->capture_default_str()->check(CLI::Range(1, 31'536'000));
  app.add_option("--service-scope", api.service_scope, "Scope a service token must carry")->envname("ANIPIPE_EDGE_SERVICE_SCOPE")
      ->capture_default_str();
  app.add_option("--cors-origins", cors, "Comma-separated allowed origins, or * (empty: no CORS headers)")->envname("ANIPIPE_EDGE_CORS_ORIGINS");
  app.add_option("--rate-ip", api.ip_rate, "Requests per second per client address (0: unlimited)")->envname("ANIPIPE_EDGE_RATE_IP")
      ->capture_default_str();
  app.add_option("--burst-ip", api.ip_burst, "Burst per client address")->envname("ANIPIPE_EDGE_BURST_IP")->capture_default_str();
  app.add_option("--rate-user", api.user_rate, "Requests per second per token subject (0: unlimited)")->envname("ANIPIPE_EDGE_RATE_USER")
      ->capture_default_str();
  app.add_option("--burst-user", api.user_burst, "Burst per token subject")->envname("ANIPIPE_EDGE_BURST_USER")->capture_default_str();
  app.add_option("--max-body-bytes", server.max_body_bytes, "Largest request body (413 beyond)")->envname("ANIPIPE_EDGE_MAX_BODY_BYTES")
      ->capture_default_str();
  app.add_option("--request-timeout-ms", request_timeout_ms, "Deadline to receive a whole request")->envname("ANIPIPE_EDGE_REQUEST_TIMEOUT_MS")
      ->capture_default_str()->check(CLI::Range(100, 600'000));
  app.add_option("--miss-wait-ms", miss_wait_ms, "How long a read of an unknown title waits for its sync")->envname("ANIPIPE_EDGE_MISS_WAIT_MS")
      ->capture_default_str()->check(CLI::Range(0, 60'000));
  std::int64_t write_ack_timeout_ms = api.produce_timeout.count();
  app.add_option("--write-ack-timeout-ms", write_ack_timeout_ms,
                 "How long an internal write waits for Kafka's acknowledgement; after it the record is never sent (503)")
      ->envname("ANIPIPE_EDGE_WRITE_ACK_TIMEOUT_MS")->capture_default_str()->check(CLI::Range(100, 300'000));
  std::int64_t write_timeout_ms = server.write_timeout.count();
  app.add_option("--write-timeout-ms", write_timeout_ms, "Deadline to send a whole response (a client that does not read is cut off)")
      ->envname("ANIPIPE_EDGE_WRITE_TIMEOUT_MS")->capture_default_str()->check(CLI::Range(100, 600'000));
  app.add_option("--max-connections", server.max_connections, "Open connections in all (beyond: 503 and closed)")
      ->envname("ANIPIPE_EDGE_MAX_CONNECTIONS")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-connections-per-ip", server.max_connections_per_ip, "Open connections per client address (a trusted proxy: no limit)")
      ->envname("ANIPIPE_EDGE_MAX_CONNECTIONS_PER_IP")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--trusted-proxies", server.trusted_proxies,
                 "Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For / Forwarded name the client")
      ->envname("ANIPIPE_EDGE_TRUSTED_PROXIES");
  app.add_option("--miss-per-address", api.misses.per_address, "Reads of unknown titles in flight per client address")
      ->envname("ANIPIPE_EDGE_MISS_PER_ADDRESS")->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("--miss-total", api.misses.total, "Reads of unknown titles in flight in all (each holds a blocking thread)")
      ->envname("ANIPIPE_EDGE_MISS_TOTAL")->capture_default_str()->check(CLI::Range(1, 10'000));
  std::int64_t miss_negative_ttl_ms = api.misses.negative_ttl.count();
  app.add_option("--miss-negative-ttl-ms", miss_negative_ttl_ms, "How long a title the upstream does not have is answered 404 from memory")
      ->envname("ANIPIPE_EDGE_MISS_NEGATIVE_TTL_MS")->capture_default_str()->check(CLI::Range(0, 86'400'000));
  app.add_option("--blocking-threads", server.blocking_threads, "Threads for requests that wait on Kafka (internal writes, syncs, misses)")
      ->envname("ANIPIPE_EDGE_BLOCKING_THREADS")->capture_default_str()->check(CLI::Range(1, 1'024));
  app.add_option("--ws-queue-max", server.ws_queue_max, "Messages queued for one WebSocket client before it is dropped")
      ->envname("ANIPIPE_EDGE_WS_QUEUE_MAX")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--ws-max-subscriptions", server.ws_max_subscriptions, "Titles one authenticated WebSocket connection may subscribe to")
      ->envname("ANIPIPE_EDGE_WS_MAX_SUBSCRIPTIONS")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--ws-max-subscriptions-anonymous", server.ws_max_subscriptions_anonymous,
                 "Titles one anonymous WebSocket connection may subscribe to")
      ->envname("ANIPIPE_EDGE_WS_MAX_SUBSCRIPTIONS_ANONYMOUS")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--titles-topic", titles_topic)->envname("ANIPIPE_EDGE_TITLES_TOPIC")->capture_default_str();
  app.add_option("--new-episode-topic", new_episode_topic)->envname("ANIPIPE_EDGE_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--notifications-topic", notifications_topic)->envname("ANIPIPE_EDGE_NOTIFICATIONS_TOPIC")->capture_default_str();
  app.add_option("--sync-results-topic", results_topic)->envname("ANIPIPE_EDGE_SYNC_RESULTS_TOPIC")->capture_default_str();
  app.add_option("--sync-requests-topic", api.topics.sync_requests)->envname("ANIPIPE_EDGE_SYNC_REQUESTS_TOPIC")->capture_default_str();
  app.add_option("--subscriptions-topic", api.topics.subscriptions)->envname("ANIPIPE_EDGE_SUBSCRIPTIONS_TOPIC")->capture_default_str();
  app.add_option("--cache-invalidations-topic", api.topics.cache_invalidations)->envname("ANIPIPE_EDGE_CACHE_INVALIDATIONS_TOPIC")
      ->capture_default_str();
  config::parse_or_exit(app, argc, argv);

  const auto colon = listen.rfind(':');
  unsigned port = 0;
  const char* port_end = listen.data() + listen.size();
  if (colon == std::string::npos || colon + 1 == listen.size() ||
      std::from_chars(listen.data() + colon + 1, port_end, port).ptr != port_end || port > 65535) {
    std::fprintf(stderr, "--listen %s: must be host:port, the port from 0 to 65535\n", listen.c_str());
    return 2;
  }
  server.address = listen.substr(0, colon);
  server.port = static_cast<unsigned short>(port);
  server.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  server.write_timeout = std::chrono::milliseconds(write_timeout_ms);
  api.produce_timeout = std::chrono::milliseconds(write_ack_timeout_ms);
  api.misses.negative_ttl = std::chrono::milliseconds(miss_negative_ttl_ms);
  api.service_token_max_lifetime = std::chrono::seconds(service_token_max_lifetime_s);
  api.demo_page = edge::kDemoPage;
  api.miss_wait = std::chrono::milliseconds(miss_wait_ms);
  for (std::size_t i = 0; i < cors.size();) {
    const auto end = std::min(cors.find(',', i), cors.size());
    if (end > i) api.cors_origins.push_back(cors.substr(i, end - i));
    i = end + 1;
  }

  // The feeds long-poll the broker: a read_committed fetch is not always woken by a transaction's
  // commit, so it would wait out fetch.wait.max.ms before a new episode is pushed. 10 ms keeps
  // that hop short, at ~100 empty fetches a second per feed on an idle broker.
  kafka::Settings feeds = options.kafka;
  feeds.overrides.emplace("fetch.wait.max.ms", "10");
  return runtime::run_process("edge", options, [&](runtime::WorkerContext ctx) {
    edge::TitleCatalog catalog;
    edge::LiveHub hub;
    edge::FeedThread titles(feeds, titles_topic, kafka::TopicFollower::From::beginning, [&](const kafka::Message& m) {
      const auto id = title_id_of(m.key());
      if (!id) throw std::invalid_argument("a titles record without a title id key");
      catalog.apply(*id, m.value());
      hub.publish_title(*id, push_message("title_update", id, m.value()));
    });
    edge::FeedThread episodes(feeds, new_episode_topic, kafka::TopicFollower::From::end, [&](const kafka::Message& m) {
      const auto id = title_id_of(m.key());
      if (!id || !m.value()) return;
      const auto sent = hub.publish_title(*id, push_message("new_episode", id, m.value()));
      if (sent > 0) ctx.metrics.observe_freshness("websocket", m.header(kafka::header_names::observed_at).value_or(""));
      spdlog::debug("new_episode of title {} pushed to {} connection(s), {} ms after it was produced", *id, sent,
                    util::now_unix_ms() - m.timestamp_ms());
    });
    edge::FeedThread notifications(feeds, notifications_topic, kafka::TopicFollower::From::end, [&](const kafka::Message& m) {
      if (m.key() && m.value()) hub.publish_user(std::string(*m.key()), push_message("notification", std::nullopt, m.value()));
    });
    edge::SyncReplies replies(feeds, results_topic);
    edge::EventWriter writer(options.kafka, ctx.schemas, "edge", api.produce_timeout);
    edge::Api handler(api, {catalog, writer, replies, hub, &ctx.metrics.registry(), [&] { return titles.ready(); },
                            [&] { return titles.lag(); }});
    hub.set_metrics(handler.metrics());
    writer.set_metrics(handler.metrics());
    edge::HttpServer http(server, handler, hub);
    const auto port = http.start();
    spdlog::info("listening on http://{}:{} ({} I/O threads); catalog loading from {}", server.address, port,
                 server.threads ? server.threads : std::thread::hardware_concurrency(), titles_topic);
    while (!ctx.stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      static bool announced = false;
      if (!announced && titles.ready() && replies.ready()) {
        announced = true;
        spdlog::info("ready: {} titles in the catalog", catalog.size());
      }
    }
    spdlog::info("stopping");
    http.stop();
    return 0;
  });
}
