// anipipe-ingest: the AniLibria upstream into anilibria.upstream.events.
//   sources (several at once): --replay FILE (NDJSON recording), --v1-base-url (poll the live v1 API,
//   catching up to the high-water mark after a start or an outage; a reconciliation sweep over the
//   whole catalog every --reconcile-interval), --v3-url (a v3 WebSocket)
//   -> normalize (every v1/v3 form) -> drop what was announced already -> produce, keyed by title id
//   -> what cannot be normalized: anilibria.dlq with the raw text and the reason.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "config/options.hpp"
#include "event_publisher.hpp"
#include "high_water_mark.hpp"
#include "recent_event_ids.hpp"
#include "reconcile_sweep.hpp"
#include "replay_source.hpp"
#include "v1_poller.hpp"
#include "v3_websocket.hpp"

#include <thread>
#include "runtime/shutdown.hpp"
#include "runtime/worker_process.hpp"

namespace {

struct IngestOptions {
  anipipe::config::WorkerOptions common;
  std::string topic = "anilibria.upstream.events";
  std::string replay_file;
  std::string replay_pace = "fast";
  double replay_speed = 1.0;
  unsigned replay_threads = 0;
  bool keep_running = false;
  std::int64_t recall_per_partition = 5000;
  std::size_t dedupe_capacity = 1'000'000;
  std::string v1_base_url;
  int poll_interval_ms = 30'000;
  int v1_limit = 50;
  bool v1_schedule = true;
  int catchup_max_pages = 200;
  std::string reconcile_interval = "6h";
  anipipe::ingest::SweepOptions sweep;
  anipipe::http::ClientOptions http;
  anipipe::ingest::V3Options v3;
  int v3_idle_timeout_ms = 90'000;
};

void print_stats(const anipipe::ingest::PublisherStats& s, double seconds) {
  std::printf("{\"messages\":%llu,\"events\":%llu,\"duplicates\":%llu,\"rejected\":%llu,\"ignored\":%llu,"
              "\"unknown_types\":%llu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n",
              static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.events),
              static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.rejected),
              static_cast<unsigned long long>(s.ignored), static_cast<unsigned long long>(s.unknown_types), seconds,
              static_cast<double>(s.messages) / seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-ingest: AniLibria upstream (v1 polling, v3 WebSocket, NDJSON recordings) into anilibria.upstream.events"};
  IngestOptions o;
  o.common.kafka.client_id = "anipipe-ingest";
  anipipe::config::add_process_options(app, o.common);
  app.add_option("--topic", o.topic, "Where normalized events go")->envname("ANIPIPE_INGEST_TOPIC")->capture_default_str();
  app.add_option("--replay", o.replay_file, "NDJSON recording to replay (one upstream message a line)")
      ->envname("ANIPIPE_INGEST_REPLAY")->check(CLI::ExistingFile);
  app.add_option("--replay-pace", o.replay_pace, "fast, or recorded (honour the gaps between recorded_at values)")
      ->envname("ANIPIPE_INGEST_REPLAY_PACE")->check(CLI::IsMember({"fast", "recorded"}))->capture_default_str();
  app.add_option("--replay-speed", o.replay_speed, "With --replay-pace recorded: 2 plays twice as fast")
      ->envname("ANIPIPE_INGEST_REPLAY_SPEED")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--replay-threads", o.replay_threads,
                 "Threads normalizing a fast replay (0: one per core; 1: all on the publishing thread)")
      ->envname("ANIPIPE_INGEST_REPLAY_THREADS")->capture_default_str()->check(CLI::Range(0, 64));
  app.add_flag("--keep-running", o.keep_running, "Do not exit when a replay ends (serve /metrics until SIGTERM)")
      ->envname("ANIPIPE_INGEST_KEEP_RUNNING");
  app.add_option("--recall", o.recall_per_partition, "Events per partition read back at start to recognise what was announced")
      ->envname("ANIPIPE_INGEST_RECALL")->capture_default_str()->check(CLI::Range(0, 10'000'000));
  app.add_option("--dedupe-capacity", o.dedupe_capacity, "Event ids remembered for dedupe")
      ->envname("ANIPIPE_INGEST_DEDUPE_CAPACITY")->capture_default_str();
  app.add_option("--v1-base-url", o.v1_base_url, "Poll this AniLiberty v1 API, e.g. https://anilibria.top/api/v1 (mirrors differ only in host)")
      ->envname("ANIPIPE_INGEST_V1_BASE_URL");
  app.add_option("--poll-interval-ms", o.poll_interval_ms, "Time between polls of the v1 API")
      ->envname("ANIPIPE_INGEST_POLL_INTERVAL_MS")->capture_default_str()->check(CLI::Range(50, 86'400'000));
  app.add_option("--v1-limit", o.v1_limit, "limit= for /anime/releases/latest (covers the changes between two polls)")
      ->envname("ANIPIPE_INGEST_V1_LIMIT")->capture_default_str()->check(CLI::Range(1, 500));
  app.add_option("--v1-schedule", o.v1_schedule, "Also poll /anime/schedule/now")->envname("ANIPIPE_INGEST_V1_SCHEDULE")->capture_default_str();
  app.add_option("--catchup-max-pages", o.catchup_max_pages,
                 "Pages of /anime/catalog/releases (50 each) a catch-up to the high-water mark reads at most")
      ->envname("ANIPIPE_INGEST_CATCHUP_MAX_PAGES")->capture_default_str()->check(CLI::Range(1, 100'000));
  app.add_option("--reconcile-interval", o.reconcile_interval,
                 "Time between reconciliation sweeps over the whole upstream catalog (e.g. 6h, 30m; 0: none); the first one "
                 "an interval after start")
      ->envname("ANIPIPE_INGEST_RECONCILE_INTERVAL")->capture_default_str();
  app.add_option("--reconcile-rate", o.sweep.titles_per_second, "Titles a sweep observes per second at most (sync fetches each)")
      ->envname("ANIPIPE_INGEST_RECONCILE_RATE")->capture_default_str()->check(CLI::Range(0.01, 100'000.0));
  app.add_option("--titles-topic", o.sweep.titles_topic, "The catalog a sweep reads for titles the upstream no longer lists")
      ->envname("ANIPIPE_INGEST_TITLES_TOPIC")->capture_default_str();
  anipipe::config::add_http_options(app, o.http);
  app.add_option("--v3-url", o.v3.url, "Follow a v3 WebSocket, e.g. wss://api.anilibria.tv/v3/ws (mirrors, recordings)")
      ->envname("ANIPIPE_INGEST_V3_URL");
  app.add_option("--v3-subscribe", o.v3.subscribe, "The v3 subscribe message sent after each (re)connect, with its filters")
      ->envname("ANIPIPE_INGEST_V3_SUBSCRIBE")->capture_default_str();
  app.add_option("--v3-idle-timeout-ms", o.v3_idle_timeout_ms, "Reconnect when the WebSocket is silent this long (server pings every 30 s)")
      ->envname("ANIPIPE_INGEST_V3_IDLE_TIMEOUT_MS")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);
  o.v3.idle_timeout = std::chrono::milliseconds(o.v3_idle_timeout_ms);
  o.v3.connect_timeout = o.http.connect_timeout;

  return anipipe::runtime::run_process("ingest", o.common, [&](anipipe::runtime::WorkerContext ctx) {
    const auto& stop = ctx.stop;
    auto& metrics = ctx.metrics;
    if (o.replay_file.empty() && o.v1_base_url.empty() && o.v3.url.empty())
      throw std::invalid_argument("no source: give --replay FILE, --v1-base-url URL and/or --v3-url URL");

    const auto reconcile_every = anipipe::ingest::parse_interval(o.reconcile_interval);
    anipipe::ingest::RecentEventIds recent(o.dedupe_capacity);
    anipipe::ingest::HighWaterMark mark;
    if (o.recall_per_partition > 0) {
      const auto n = recent.recall(o.common.kafka, o.topic, o.recall_per_partition, [&](std::string_view v) { mark.observe_event(v); });
      spdlog::info("recalled {} announced event id(s) from {}; high-water mark {}", n, o.topic, mark.to_string());
    }
    // Live sources see an observation now and then, and its freshness is what counts: no linger
    // (librdkafka's 5 ms is a fifth of the end-to-end latency to a browser). A replay wants
    // batches. --kafka linger.ms=... overrides either.
    anipipe::kafka::Producer::Options producer_options;
    if (o.replay_file.empty()) producer_options.defaults["linger.ms"] = "0";
    anipipe::kafka::Producer producer(o.common.kafka, producer_options);
    producer.prepare(o.topic);
    producer.prepare(o.common.dlq_topic);
    anipipe::ingest::EventPublisher publisher(producer, ctx.schemas, metrics, recent, {o.topic, o.common.dlq_topic});

    if (!o.replay_file.empty()) {
      const unsigned threads = o.replay_threads ? o.replay_threads : std::max(1u, std::thread::hardware_concurrency());
      anipipe::ingest::ReplayOptions ro{o.replay_file, o.replay_pace == "recorded", o.replay_speed, threads};
      const auto recording = anipipe::ingest::load_recording(ro.file);
      const auto started = std::chrono::steady_clock::now();
      anipipe::ingest::replay(recording, ro, ctx.schemas, publisher, producer, stop);
      // The replay counts as done when the broker has acknowledged every event (acks=all).
      while (producer.pending() > 0 && !stop.load()) producer.flush(std::chrono::milliseconds(500));
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      print_stats(publisher.stats(), seconds);
    }
    // The WebSocket runs beside the poller, on its own thread with its own parser.
    anipipe::upstream::Normalizer v3_normalizer(&ctx.schemas);
    std::jthread v3_thread;
    if (!o.v3.url.empty())
      v3_thread = std::jthread([&] {
        try {
          anipipe::ingest::run_v3_websocket(o.v3, v3_normalizer, publisher, metrics.registry(), stop);
        } catch (const std::exception& e) {
          spdlog::critical("v3 source stopped: {}", e.what());
          anipipe::runtime::request_shutdown();
        }
      });
    // The sweep walks the catalog on a thread and a connection of its own, beside the polls.
    std::jthread sweep_thread;
    if (!o.v1_base_url.empty() && reconcile_every.count() > 0)
      sweep_thread = std::jthread([&] {
        try {
          anipipe::http::Client client(o.v1_base_url, o.http, &metrics.registry(), "upstream_sweep");
          anipipe::ingest::ReconcileSweep sweep(o.sweep, client, publisher, o.common.kafka, &metrics.registry());
          for (;;) {
            const auto due = std::chrono::steady_clock::now() + reconcile_every;
            while (!stop.load() && std::chrono::steady_clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(200));
            if (stop.load()) break;
            sweep.run(stop);
          }
        } catch (const std::exception& e) {
          spdlog::critical("reconciliation sweep stopped: {}", e.what());
          anipipe::runtime::request_shutdown();
        }
      });
    // Whatever ends this scope, a throw included (a bad --v1-base-url), the side threads are told to
    // stop before they are joined: a std::thread still running at a throw ends in std::terminate.
    struct StopSideThreads {
      ~StopSideThreads() { anipipe::runtime::request_shutdown(); }
    } stop_side_threads;
    if (!o.v1_base_url.empty()) {
      anipipe::http::Client client(o.v1_base_url, o.http, &metrics.registry(), "upstream_v1");
      anipipe::upstream::Normalizer normalizer(&ctx.schemas);
      anipipe::ingest::V1PollerOptions po;
      po.interval = std::chrono::milliseconds(o.poll_interval_ms);
      po.limit = o.v1_limit;
      po.schedule = o.v1_schedule;
      po.catchup_max_pages = o.catchup_max_pages;
      anipipe::ingest::V1Poller poller(po, client, normalizer, publisher, mark, metrics.registry());
      spdlog::info("polling {} every {} ms{}", o.v1_base_url, o.poll_interval_ms,
                   reconcile_every.count() > 0 ? "; a reconciliation sweep every " + o.reconcile_interval : "");
      while (!stop.load()) {
        poller.poll_once(stop);
        const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.poll_interval_ms);
        while (!stop.load() && std::chrono::steady_clock::now() < next) producer.poll(std::chrono::milliseconds(50));
      }
    }
    if (sweep_thread.joinable()) sweep_thread.join();
    while ((o.keep_running || v3_thread.joinable()) && !stop.load()) producer.poll(std::chrono::milliseconds(100));
    if (v3_thread.joinable()) v3_thread.join();
    anipipe::runtime::arm_shutdown_deadline(std::chrono::seconds(o.common.shutdown_timeout_s));
    if (!producer.flush(std::chrono::seconds(o.common.shutdown_timeout_s)))
      spdlog::warn("{} event(s) not acknowledged at shutdown; they are announced again after a restart", producer.pending());
    return 0;
  });
}
