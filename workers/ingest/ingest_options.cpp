#include "ingest_options.hpp"

namespace anipipe::ingest {

IngestOptions parse_options(int argc, char** argv) {
  CLI::App app{"anipipe-ingest: AniLibria upstream (v1 polling, v3 WebSocket, NDJSON recordings) into anilibria.upstream.events"};
  IngestOptions o;
  o.common.kafka.client_id = "anipipe-ingest";
  config::add_process_options(app, o.common);
  app.add_option("--topic", o.topic, "Where normalized events go")->envname("ANIPIPE_INGEST_TOPIC")->capture_default_str();
  app.add_option("--replay", o.replay_file, "NDJSON recording to replay (one upstream message a line)")
      ->envname("ANIPIPE_INGEST_REPLAY")
      ->check(CLI::ExistingFile);
  app.add_option("--replay-pace", o.replay_pace, "fast, or recorded (honour the gaps between recorded_at values)")
      ->envname("ANIPIPE_INGEST_REPLAY_PACE")
      ->check(CLI::IsMember({"fast", "recorded"}))
      ->capture_default_str();
  app.add_option("--replay-speed", o.replay_speed, "With --replay-pace recorded: 2 plays twice as fast")
      ->envname("ANIPIPE_INGEST_REPLAY_SPEED")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--replay-threads", o.replay_threads,
                 "Threads normalizing a fast replay (0: one per core; 1: all on the publishing thread)")
      ->envname("ANIPIPE_INGEST_REPLAY_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_flag("--keep-running", o.keep_running, "Do not exit when a replay ends (serve /metrics until SIGTERM)")
      ->envname("ANIPIPE_INGEST_KEEP_RUNNING");
  app.add_option("--recall", o.recall_per_partition, "Events per partition read back at start to recognise what was announced")
      ->envname("ANIPIPE_INGEST_RECALL")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--dedupe-capacity", o.dedupe_capacity, "Event ids remembered for dedupe")
      ->envname("ANIPIPE_INGEST_DEDUPE_CAPACITY")
      ->capture_default_str();
  app.add_option("--v1-base-url", o.v1_base_url,
                 "Poll this AniLiberty v1 API, e.g. https://anilibria.top/api/v1 (mirrors differ only in host)")
      ->envname("ANIPIPE_INGEST_V1_BASE_URL");
  app.add_option("--poll-interval-ms", o.poll_interval_ms, "Time between polls of the v1 API")
      ->envname("ANIPIPE_INGEST_POLL_INTERVAL_MS")
      ->capture_default_str()
      ->check(CLI::Range(50, 86'400'000));
  app.add_option("--v1-limit", o.v1_limit, "limit= for /anime/releases/latest (covers the changes between two polls)")
      ->envname("ANIPIPE_INGEST_V1_LIMIT")
      ->capture_default_str()
      ->check(CLI::Range(1, 500));
  app.add_option("--v1-schedule", o.v1_schedule, "Also poll /anime/schedule/now")
      ->envname("ANIPIPE_INGEST_V1_SCHEDULE")
      ->capture_default_str();
  app.add_option("--catchup-max-pages", o.catchup_max_pages,
                 "Pages of /anime/catalog/releases (50 each) a catch-up to the high-water mark reads at most")
      ->envname("ANIPIPE_INGEST_CATCHUP_MAX_PAGES")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--reconcile-interval", o.reconcile_interval,
                 "Time between reconciliation sweeps over the whole upstream catalog (e.g. 6h, 30m; 0: none); the first one "
                 "an interval after start")
      ->envname("ANIPIPE_INGEST_RECONCILE_INTERVAL")
      ->capture_default_str();
  app.add_option("--reconcile-rate", o.sweep.titles_per_second, "Titles a sweep observes per second at most (sync fetches each)")
      ->envname("ANIPIPE_INGEST_RECONCILE_RATE")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100'000.0));
  app.add_option("--titles-topic", o.sweep.titles_topic, "The catalog a sweep reads for titles the upstream no longer lists")
      ->envname("ANIPIPE_INGEST_TITLES_TOPIC")
      ->capture_default_str();
  config::add_http_options(app, o.http);
  app.add_option("--v3-url", o.v3.url, "Follow a v3 WebSocket, e.g. wss://api.anilibria.tv/v3/ws (mirrors, recordings)")
      ->envname("ANIPIPE_INGEST_V3_URL");
  app.add_option("--v3-subscribe", o.v3.subscribe, "The v3 subscribe message sent after each (re)connect, with its filters")
      ->envname("ANIPIPE_INGEST_V3_SUBSCRIBE")
      ->capture_default_str();
  app.add_option("--v3-idle-timeout-ms", o.v3_idle_timeout_ms, "Reconnect when the WebSocket is silent this long (server pings every 30 s)")
      ->envname("ANIPIPE_INGEST_V3_IDLE_TIMEOUT_MS")
      ->capture_default_str();
  config::parse_or_exit(app, argc, argv);
  o.v3.idle_timeout = std::chrono::milliseconds(o.v3_idle_timeout_ms);
  o.v3.connect_timeout = o.http.connect_timeout;

  return o;
}

}  // namespace anipipe::ingest
