#include "ingest_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "event_publisher.hpp"
#include "high_water_mark.hpp"
#include "recent_event_ids.hpp"
#include "reconcile_sweep.hpp"
#include "replay_source.hpp"
#include "runtime/shutdown.hpp"
#include "v1_poller.hpp"
#include "v3_websocket.hpp"

namespace anipipe::ingest {

namespace {

void print_stats(const PublisherStats& s, double seconds) {
  std::printf("{\"messages\":%llu,\"events\":%llu,\"duplicates\":%llu,\"rejected\":%llu,\"ignored\":%llu,"
              "\"unknown_types\":%llu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n",
              static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.events),
              static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.rejected),
              static_cast<unsigned long long>(s.ignored), static_cast<unsigned long long>(s.unknown_types), seconds,
              static_cast<double>(s.messages) / seconds);
  std::fflush(stdout);
}

void replay_recording(const IngestOptions& o, runtime::WorkerContext& ctx, EventPublisher& publisher, kafka::Producer& producer) {
  const unsigned threads = o.replay_threads ? o.replay_threads : std::max(1u, std::thread::hardware_concurrency());
  ReplayOptions ro{o.replay_file, o.replay_pace == "recorded", o.replay_speed, threads};
  const auto recording = load_recording(ro.file);
  const auto started = std::chrono::steady_clock::now();
  replay(recording, ro, ctx.schemas, publisher, producer, ctx.stop);
  // The replay counts as done when the broker has acknowledged every event (acks=all).
  while (producer.pending() > 0 && !ctx.stop.load()) producer.flush(std::chrono::milliseconds(500));
  print_stats(publisher.stats(), std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

/// Runs `body` on a thread of its own; if it throws, the whole process is asked to stop.
std::jthread side_thread(const char* what, std::function<void()> body) {
  return std::jthread([what, body = std::move(body)] {
    try {
      body();
    } catch (const std::exception& e) {
      spdlog::critical("{} stopped: {}", what, e.what());
      runtime::request_shutdown();
    }
  });
}

void poll_v1(const IngestOptions& o, runtime::WorkerContext& ctx, EventPublisher& publisher, kafka::Producer& producer, HighWaterMark& mark,
             std::chrono::milliseconds reconcile_every) {
  http::Client client(o.v1_base_url, o.http, &ctx.metrics.registry(), "upstream_v1");
  upstream::Normalizer normalizer(&ctx.schemas);
  V1PollerOptions po;
  po.interval = std::chrono::milliseconds(o.poll_interval_ms);
  po.limit = o.v1_limit;
  po.schedule = o.v1_schedule;
  po.catchup_max_pages = o.catchup_max_pages;
  V1Poller poller(po, client, normalizer, publisher, mark, ctx.metrics.registry());
  spdlog::info("polling {} every {} ms{}", o.v1_base_url, o.poll_interval_ms,
               reconcile_every.count() > 0 ? "; a reconciliation sweep every " + o.reconcile_interval : "");
  while (!ctx.stop.load()) {
    poller.poll_once(ctx.stop);
    const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.poll_interval_ms);
    while (!ctx.stop.load() && std::chrono::steady_clock::now() < next) producer.poll(std::chrono::milliseconds(50));
  }
}

}  // namespace

int run_ingest(const IngestOptions& o, runtime::WorkerContext ctx) {
  const auto& stop = ctx.stop;
  if (o.replay_file.empty() && o.v1_base_url.empty() && o.v3.url.empty())
    throw std::invalid_argument("no source: give --replay FILE, --v1-base-url URL and/or --v3-url URL");
  const auto reconcile_every = parse_interval(o.reconcile_interval);
  RecentEventIds recent(o.dedupe_capacity);
  HighWaterMark mark;
  if (o.recall_per_partition > 0) {
    const auto n = recent.recall(o.common.kafka, o.topic, o.recall_per_partition, [&](std::string_view v) { mark.observe_event(v); });
    spdlog::info("recalled {} announced event id(s) from {}; high-water mark {}", n, o.topic, mark.to_string());
  }
  // Live sources see an observation now and then, and its freshness is what counts: no linger
  // (librdkafka's 5 ms is a fifth of the end-to-end latency to a browser). A replay wants
  // batches. --kafka linger.ms=... overrides either.
  kafka::Producer::Options producer_options;
  if (o.replay_file.empty()) producer_options.defaults["linger.ms"] = "0";
  kafka::Producer producer(o.common.kafka, producer_options);
  producer.prepare(o.topic);
  producer.prepare(o.common.dlq_topic);
  EventPublisher publisher(producer, ctx.schemas, ctx.metrics, recent, {o.topic, o.common.dlq_topic});

  if (!o.replay_file.empty()) replay_recording(o, ctx, publisher, producer);
  // The WebSocket runs beside the poller, on its own thread with its own parser.
  upstream::Normalizer v3_normalizer(&ctx.schemas);
  std::jthread v3_thread;
  if (!o.v3.url.empty())
    v3_thread = side_thread("v3 source", [&] { run_v3_websocket(o.v3, v3_normalizer, publisher, ctx.metrics.registry(), stop); });
  // The sweep walks the catalog on a thread and a connection of its own, beside the polls.
  std::jthread sweep_thread;
  if (!o.v1_base_url.empty() && reconcile_every.count() > 0)
    sweep_thread = side_thread("reconciliation sweep", [&] {
      http::Client client(o.v1_base_url, o.http, &ctx.metrics.registry(), "upstream_sweep");
      ReconcileSweep sweep(o.sweep, client, publisher, o.common.kafka, &ctx.metrics.registry());
      for (;;) {
        const auto due = std::chrono::steady_clock::now() + reconcile_every;
        while (!stop.load() && std::chrono::steady_clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (stop.load()) break;
        sweep.run(stop);
      }
    });
  // Whatever ends this scope, a throw included (a bad --v1-base-url), the side threads are told to
  // stop before they are joined: a std::thread still running at a throw ends in std::terminate.
  struct StopSideThreads {
    ~StopSideThreads() { runtime::request_shutdown(); }
  } stop_side_threads;
  if (!o.v1_base_url.empty()) poll_v1(o, ctx, publisher, producer, mark, reconcile_every);
  if (sweep_thread.joinable()) sweep_thread.join();
  while ((o.keep_running || v3_thread.joinable()) && !stop.load()) producer.poll(std::chrono::milliseconds(100));
  if (v3_thread.joinable()) v3_thread.join();
  runtime::arm_shutdown_deadline(std::chrono::seconds(o.common.shutdown_timeout_s));
  if (!producer.flush(std::chrono::seconds(o.common.shutdown_timeout_s)))
    spdlog::warn("{} event(s) not acknowledged at shutdown; they are announced again after a restart", producer.pending());
  return 0;
}

}  // namespace anipipe::ingest
