#include "edge_options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "demo_page.hpp"
#include "redis/client.hpp"

namespace anipipe::edge {

namespace {

/// Values parsed as text or integers before they become the settings' types.
struct Raw {
  std::string listen = "127.0.0.1:8080", cors;
  std::int64_t miss_wait_ms, request_timeout_ms, service_token_max_lifetime_s, write_ack_timeout_ms, write_timeout_ms, miss_negative_ttl_ms,
      auth_positive_ttl_s, auth_negative_ttl_s, auth_timeout_ms, ws_history_max_age_s, legacy_timeout_ms, flag_cache_ms, flag_stale_ms,
      shadow_tolerance_ms;
  explicit Raw(const EdgeOptions& o)
      : miss_wait_ms(o.api.miss_wait.count()), request_timeout_ms(o.server.request_timeout.count()),
        service_token_max_lifetime_s(o.api.service_token_max_lifetime.count()), write_ack_timeout_ms(o.api.produce_timeout.count()),
        write_timeout_ms(o.server.write_timeout.count()), miss_negative_ttl_ms(o.api.misses.negative_ttl.count()),
        auth_positive_ttl_s(o.api.users.positive_ttl.count()), auth_negative_ttl_s(o.api.users.negative_ttl.count()),
        auth_timeout_ms(o.api.users.timeout.count()), ws_history_max_age_s(o.server.ws_history_max_age.count()),
        legacy_timeout_ms(o.api.migration.legacy.timeout.count()), flag_cache_ms(o.api.migration.flags.cache_for.count()),
        flag_stale_ms(o.api.migration.flags.stale_for.count()), shadow_tolerance_ms(o.api.migration.shadow.rules.tolerance.count()) {}
};

/// User tokens checked by the site's back end (seed 001's POST /internal/auth/validate) instead of a
/// shared key.
void add_auth_options(CLI::App& app, UserTokenSettings& users, Raw& raw) {
  auto* url = app.add_option("--auth-validate-url", users.validate_url,
                             "The back end's POST /internal/auth/validate: it checks user tokens (instead of --user-secret)")
                  ->envname("ANIPIPE_EDGE_AUTH_VALIDATE_URL");
  app.add_option("--auth-service-token", users.service_token, "Bearer token the edge presents to --auth-validate-url")
      ->envname("ANIPIPE_EDGE_AUTH_SERVICE_TOKEN")
      ->needs(url);
  url->needs(app.get_option("--auth-service-token"));
  app.add_option("--auth-cache-ttl-s", raw.auth_positive_ttl_s, "How long the back end's yes for a token is trusted")
      ->envname("ANIPIPE_EDGE_AUTH_CACHE_TTL_S")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600));
  app.add_option("--auth-negative-ttl-s", raw.auth_negative_ttl_s, "How long the back end's no for a token is remembered")
      ->envname("ANIPIPE_EDGE_AUTH_NEGATIVE_TTL_S")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600));
  app.add_option("--auth-timeout-ms", raw.auth_timeout_ms, "Deadline of one call to the back end (an upgrade waits for it; then 503)")
      ->envname("ANIPIPE_EDGE_AUTH_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(50, 30'000));
}

/// The process, the server and its limits, authentication.
void add_server_options(CLI::App& app, EdgeOptions& o, Raw& raw) {
  auto& [options, server, api, titles_topic, new_episode_topic, notifications_topic, results_topic] = o;
  options.kafka.client_id = "anipipe-edge";
  options.metrics_addr = "off";  // /metrics is served on the edge's own port
  config::add_process_options(app, options);
  app.add_option("--listen", raw.listen, "host:port for HTTP and WebSocket")->envname("ANIPIPE_EDGE_LISTEN")->capture_default_str();
  app.add_option("--threads", server.threads, "I/O threads (0: one per core)")->envname("ANIPIPE_EDGE_THREADS")->capture_default_str();
  app.add_option("--service-secret", api.service_secret, "HS256 key of service tokens for /internal/* (required)")
      ->envname("ANIPIPE_EDGE_SERVICE_SECRET")
      ->required();
  app.add_option("--user-secret", api.users.secret,
                 "HS256 key of user tokens on the WebSocket (empty: anonymous connections only); must differ from --service-secret")
      ->envname("ANIPIPE_EDGE_USER_SECRET");
  add_auth_options(app, api.users, raw);
  app.add_option("--service-token-max-lifetime-s", raw.service_token_max_lifetime_s,
                 "A service token must expire (exp) within this many seconds of its iat (or of now)")
      ->envname("ANIPIPE_EDGE_SERVICE_TOKEN_MAX_LIFETIME_S")
      ->capture_default_str()
      ->check(CLI::Range(1, 31'536'000));
  app.add_option("--service-scope", api.service_scope, "Scope a service token must carry")
      ->envname("ANIPIPE_EDGE_SERVICE_SCOPE")
      ->capture_default_str();
  app.add_option("--cors-origins", raw.cors, "Comma-separated allowed origins, or * (empty: no CORS headers)")
      ->envname("ANIPIPE_EDGE_CORS_ORIGINS");
  app.add_option("--rate-ip", api.ip_rate, "Requests per second per client address (0: unlimited)")
      ->envname("ANIPIPE_EDGE_RATE_IP")
      ->capture_default_str();
  app.add_option("--burst-ip", api.ip_burst, "Burst per client address")->envname("ANIPIPE_EDGE_BURST_IP")->capture_default_str();
  app.add_option("--rate-user", api.user_rate, "Requests per second per token subject (0: unlimited)")
      ->envname("ANIPIPE_EDGE_RATE_USER")
      ->capture_default_str();
  app.add_option("--burst-user", api.user_burst, "Burst per token subject")->envname("ANIPIPE_EDGE_BURST_USER")->capture_default_str();
  app.add_option("--max-body-bytes", server.max_body_bytes, "Largest request body (413 beyond)")
      ->envname("ANIPIPE_EDGE_MAX_BODY_BYTES")
      ->capture_default_str();
  app.add_option("--request-timeout-ms", raw.request_timeout_ms, "Deadline to receive a whole request")
      ->envname("ANIPIPE_EDGE_REQUEST_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));
  app.add_option("--miss-wait-ms", raw.miss_wait_ms, "How long a read of an unknown title waits for its sync")
      ->envname("ANIPIPE_EDGE_MISS_WAIT_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 60'000));
  app.add_option("--write-ack-timeout-ms", raw.write_ack_timeout_ms,
                 "How long an internal write waits for Kafka's acknowledgement; after it the record is never sent (503)")
      ->envname("ANIPIPE_EDGE_WRITE_ACK_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(100, 300'000));
  app.add_option("--write-timeout-ms", raw.write_timeout_ms, "Deadline to send a whole response (a client that does not read is cut off)")
      ->envname("ANIPIPE_EDGE_WRITE_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));
}

/// What a WebSocket client back with `since` can be given (docs/websocket.md).
void add_recovery_options(CLI::App& app, ServerSettings& server, Raw& raw) {
  app.add_option("--ws-history-records", server.ws_history_records,
                 "Recent pushes kept in memory per partition of anilibria.new_episode and of anilibria.notifications, for clients back "
                 "with since (older ones are read from Kafka)")
      ->envname("ANIPIPE_EDGE_WS_HISTORY_RECORDS")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--ws-history-max-age-s", raw.ws_history_max_age_s, "How long a push stays in that history")
      ->envname("ANIPIPE_EDGE_WS_HISTORY_MAX_AGE_S")
      ->capture_default_str()
      ->check(CLI::Range(1, 31'536'000));
  app.add_option("--ws-recovery-max-records", server.ws_recovery_max_records,
                 "A client more than this many offsets behind on its partition gets recovery_gap instead of a replay")
      ->envname("ANIPIPE_EDGE_WS_RECOVERY_MAX_RECORDS")
      ->capture_default_str()
      ->check(CLI::Range(0, 100'000'000));
  app.add_option("--ws-recovery-pending", server.ws_recovery_pending,
                 "Replays from Kafka queued at once (each opens a consumer); beyond it a client gets recovery_gap (unavailable)")
      ->envname("ANIPIPE_EDGE_WS_RECOVERY_PENDING")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--ws-partitioner", server.ws_partitioner,
                 "How the producers of the live topics map a key to a partition: murmur2 (anipipe's producers, Java, kafkajs) or "
                 "consistent (librdkafka's default); names the partition in the position of a stream with no push yet")
      ->envname("ANIPIPE_EDGE_WS_PARTITIONER")
      ->transform(CLI::CheckedTransformer(std::map<std::string, kafka::Partitioner>{{"consistent", kafka::Partitioner::consistent},
                                                                                    {"murmur2", kafka::Partitioner::murmur2}})
                      .description("in {consistent, murmur2}"))
      ->type_name("TEXT")
      ->default_str("murmur2");
}

/// In front of the legacy back end: the proxy, the flags that choose the side, the shadow comparison (docs/migration.md).
void add_migration_options(CLI::App& app, MigrationSettings& m, Raw& raw) {
  auto* url = app.add_option("--legacy-url", m.legacy.url,
                             "The legacy back end (http://host:port): requests the edge is not chosen to serve are proxied to it "
                             "(empty: the edge serves everything)")
                  ->envname("ANIPIPE_EDGE_LEGACY_URL");
  app.add_option("--legacy-timeout-ms", raw.legacy_timeout_ms, "Deadline of one proxied request (then 504; no answer at all: 502)")
      ->envname("ANIPIPE_EDGE_LEGACY_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));
  app.add_option("--legacy-max-in-flight", m.legacy.max_in_flight,
                 "Proxied requests waiting on the legacy at once (no thread each); beyond it a 503 with Retry-After at once")
      ->envname("ANIPIPE_EDGE_LEGACY_MAX_IN_FLIGHT")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--flag-cache-ms", raw.flag_cache_ms,
                 "How long a flag's answer for one user is reused (a rollback takes effect within it)")
      ->envname("ANIPIPE_EDGE_FLAG_CACHE_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 600'000));
  app.add_option("--flag-stale-ms", raw.flag_stale_ms, "Redis down: how long a cached answer still holds before the legacy side is chosen")
      ->envname("ANIPIPE_EDGE_FLAG_STALE_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--flag-titles", m.flag_titles, "Flag of the titles routes (GET v1 and v2 lists and titles)")
      ->envname("ANIPIPE_EDGE_FLAG_TITLES")
      ->capture_default_str();
  auto& sh = m.shadow;
  app.add_option("--shadow-percent", sh.percent, "Share of title reads also asked of the other side and compared (0 to 100)")
      ->envname("ANIPIPE_EDGE_SHADOW_PERCENT")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0))
      ->needs(url);
  app.add_option("--shadow-threads", sh.threads, "Threads that run shadow requests")
      ->envname("ANIPIPE_EDGE_SHADOW_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--shadow-queue", sh.queue_max, "Shadow requests waiting at most (beyond: dropped and counted)")
      ->envname("ANIPIPE_EDGE_SHADOW_QUEUE")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--shadow-ignore", sh.rules.ignore, "Paths (data.episodes[].updatedAt) allowed to differ or be on one side only")
      ->envname("ANIPIPE_EDGE_SHADOW_IGNORE")
      ->delimiter(',');
  app.add_option("--shadow-unordered", sh.rules.unordered, "Paths of lists compared as multisets (data.genres)")
      ->envname("ANIPIPE_EDGE_SHADOW_UNORDERED")
      ->delimiter(',');
  app.add_option("--shadow-timestamp", sh.rules.timestamps,
                 "Field names or paths compared as timestamps (ISO-8601 strings are anyway; numbers: Unix s or ms)")
      ->envname("ANIPIPE_EDGE_SHADOW_TIMESTAMP")
      ->delimiter(',');
  app.add_option("--shadow-timestamp-tolerance-ms", raw.shadow_tolerance_ms, "Timestamps this close are equal")
      ->envname("ANIPIPE_EDGE_SHADOW_TIMESTAMP_TOLERANCE_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--shadow-diff-sample", sh.diff_sample, "1 in N mismatches is produced to --shadow-diffs-topic (1: all, 0: none)")
      ->envname("ANIPIPE_EDGE_SHADOW_DIFF_SAMPLE")
      ->capture_default_str();
  app.add_option("--shadow-diffs-topic", sh.diffs_topic)->envname("ANIPIPE_EDGE_SHADOW_DIFFS_TOPIC")->capture_default_str();
}

/// Miss budgets, WebSocket limits, the topics.
void add_api_options(CLI::App& app, EdgeOptions& o, Raw& raw) {
  auto& [options, server, api, titles_topic, new_episode_topic, notifications_topic, results_topic] = o;
  app.add_option("--max-connections", server.max_connections, "Open connections in all (beyond: 503 and closed)")
      ->envname("ANIPIPE_EDGE_MAX_CONNECTIONS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-connections-per-ip", server.max_connections_per_ip,
                 "Open connections per client address (a trusted proxy: no limit)")
      ->envname("ANIPIPE_EDGE_MAX_CONNECTIONS_PER_IP")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--trusted-proxies", server.trusted_proxies,
                 "Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For / Forwarded name the client")
      ->envname("ANIPIPE_EDGE_TRUSTED_PROXIES");
  app.add_option("--miss-per-address", api.misses.per_address, "Reads of unknown titles in flight per client address")
      ->envname("ANIPIPE_EDGE_MISS_PER_ADDRESS")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  app.add_option("--miss-total", api.misses.total, "Reads of unknown titles in flight in all (each holds a blocking thread)")
      ->envname("ANIPIPE_EDGE_MISS_TOTAL")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  app.add_option("--miss-negative-ttl-ms", raw.miss_negative_ttl_ms,
                 "How long a title the upstream does not have is answered 404 from memory")
      ->envname("ANIPIPE_EDGE_MISS_NEGATIVE_TTL_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--blocking-threads", server.blocking_threads, "Threads for requests that wait on Kafka (internal writes, syncs, misses)")
      ->envname("ANIPIPE_EDGE_BLOCKING_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'024));
  app.add_option("--ws-queue-max", server.ws_queue_max, "Messages queued for one WebSocket client before it is dropped")
      ->envname("ANIPIPE_EDGE_WS_QUEUE_MAX")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--ws-max-subscriptions", server.ws_max_subscriptions, "Titles one authenticated WebSocket connection may subscribe to")
      ->envname("ANIPIPE_EDGE_WS_MAX_SUBSCRIPTIONS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--ws-max-subscriptions-anonymous", server.ws_max_subscriptions_anonymous,
                 "Titles one anonymous WebSocket connection may subscribe to")
      ->envname("ANIPIPE_EDGE_WS_MAX_SUBSCRIPTIONS_ANONYMOUS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  add_recovery_options(app, server, raw);
  add_migration_options(app, api.migration, raw);
  app.add_option("--titles-topic", titles_topic)->envname("ANIPIPE_EDGE_TITLES_TOPIC")->capture_default_str();
  app.add_option("--new-episode-topic", new_episode_topic)->envname("ANIPIPE_EDGE_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--notifications-topic", notifications_topic)->envname("ANIPIPE_EDGE_NOTIFICATIONS_TOPIC")->capture_default_str();
  app.add_option("--sync-results-topic", results_topic)->envname("ANIPIPE_EDGE_SYNC_RESULTS_TOPIC")->capture_default_str();
  app.add_option("--sync-requests-topic", api.topics.sync_requests)->envname("ANIPIPE_EDGE_SYNC_REQUESTS_TOPIC")->capture_default_str();
  app.add_option("--subscriptions-topic", api.topics.subscriptions)->envname("ANIPIPE_EDGE_SUBSCRIPTIONS_TOPIC")->capture_default_str();
  app.add_option("--cache-invalidations-topic", api.topics.cache_invalidations)
      ->envname("ANIPIPE_EDGE_CACHE_INVALIDATIONS_TOPIC")
      ->capture_default_str();
  app.add_option("--notification-events-topic", api.topics.notification_events)
      ->envname("ANIPIPE_EDGE_NOTIFICATION_EVENTS_TOPIC")
      ->capture_default_str();
  app.add_option("--redis-url", api.redis_url,
                 "redis://[:password@]host[:port][/db]: users' notification histories (notify writes them) and the site's feature flags "
                 "(feature:{flag}:global|percentage|user:{id}); empty: /api/notifications answers 404 and every flag is off")
      ->envname("ANIPIPE_REDIS_URL");
}

/// Raw values into the settings; a bad --listen exits 2.
void finish(EdgeOptions& o, const Raw& raw) {
  auto& [options, server, api, titles_topic, new_episode_topic, notifications_topic, results_topic] = o;

  const auto colon = raw.listen.rfind(':');
  unsigned port = 0;
  const char* port_end = raw.listen.data() + raw.listen.size();
  if (colon == std::string::npos || colon + 1 == raw.listen.size() ||
      std::from_chars(raw.listen.data() + colon + 1, port_end, port).ptr != port_end || port > 65535) {
    std::fprintf(stderr, "--listen %s: must be host:port, the port from 0 to 65535\n", raw.listen.c_str());
    std::exit(2);
  }
  if (!api.users.secret.empty() && !api.users.validate_url.empty()) {
    std::fprintf(stderr, "--user-secret and --auth-validate-url: user tokens are checked one way, give one of them\n");
    std::exit(2);
  }
  try {
    if (!api.redis_url.empty()) (void)redis::Options::parse(api.redis_url);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "--redis-url %s: %s\n", api.redis_url.c_str(), e.what());
    std::exit(2);
  }
  api.migration.flags.redis_url = api.redis_url;  // one Redis: the flags live beside the histories
  server.address = raw.listen.substr(0, colon);
  server.port = static_cast<unsigned short>(port);
  server.request_timeout = std::chrono::milliseconds(raw.request_timeout_ms);
  server.write_timeout = std::chrono::milliseconds(raw.write_timeout_ms);
  server.ws_history_max_age = std::chrono::seconds(raw.ws_history_max_age_s);
  api.produce_timeout = std::chrono::milliseconds(raw.write_ack_timeout_ms);
  api.misses.negative_ttl = std::chrono::milliseconds(raw.miss_negative_ttl_ms);
  api.service_token_max_lifetime = std::chrono::seconds(raw.service_token_max_lifetime_s);
  api.users.positive_ttl = std::chrono::seconds(raw.auth_positive_ttl_s);
  api.users.negative_ttl = std::chrono::seconds(raw.auth_negative_ttl_s);
  api.users.timeout = std::chrono::milliseconds(raw.auth_timeout_ms);
  api.demo_page = kDemoPage;
  api.miss_wait = std::chrono::milliseconds(raw.miss_wait_ms);
  api.migration.legacy.timeout = std::chrono::milliseconds(raw.legacy_timeout_ms);
  api.migration.flags.cache_for = std::chrono::milliseconds(raw.flag_cache_ms);
  api.migration.flags.stale_for = std::chrono::milliseconds(raw.flag_stale_ms);
  api.migration.shadow.rules.tolerance = std::chrono::milliseconds(raw.shadow_tolerance_ms);
  for (std::size_t i = 0; i < raw.cors.size();) {
    const auto end = std::min(raw.cors.find(',', i), raw.cors.size());
    if (end > i) api.cors_origins.push_back(raw.cors.substr(i, end - i));
    i = end + 1;
  }
}

}  // namespace

EdgeOptions parse_options(int argc, char** argv) {
  EdgeOptions o;
  Raw raw(o);
  CLI::App app{
      "anipipe-edge: the HTTP/WebSocket front: titles from an in-memory catalog, live pushes, an internal API that produces events"};
  add_server_options(app, o, raw);
  add_api_options(app, o, raw);
  config::parse_or_exit(app, argc, argv);
  finish(o, raw);
  return o;
}

}  // namespace anipipe::edge
