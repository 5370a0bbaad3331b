// anipipe-ingest: the AniLibria upstream into anilibria.upstream.events.
//   sources (several at once): --replay FILE (NDJSON recording), --v1-base-url (poll the live v1 API)
//   -> normalize (every v1/v3 form) -> drop what was announced already -> produce, keyed by title id
//   -> what cannot be normalized: anilibria.dlq with the raw text and the reason.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "config/options.hpp"
#include "event_publisher.hpp"
#include "log/log.hpp"
#include "recent_event_ids.hpp"
#include "replay_source.hpp"
#include "runtime/shutdown.hpp"

namespace {

struct IngestOptions {
  anipipe::config::WorkerOptions common;
  std::string topic = "anilibria.upstream.events";
  std::string replay_file;
  std::string replay_pace = "fast";
  double replay_speed = 1.0;
  bool keep_running = false;
  std::int64_t recall_per_partition = 5000;
  std::size_t dedupe_capacity = 1'000'000;
};

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
  app.add_flag("--keep-running", o.keep_running, "Do not exit when a replay ends (serve /metrics until SIGTERM)")
      ->envname("ANIPIPE_INGEST_KEEP_RUNNING");
  app.add_option("--recall", o.recall_per_partition, "Events per partition read back at start to recognise what was announced")
      ->envname("ANIPIPE_INGEST_RECALL")->capture_default_str()->check(CLI::Range(0, 10'000'000));
  app.add_option("--dedupe-capacity", o.dedupe_capacity, "Event ids remembered for dedupe")
      ->envname("ANIPIPE_INGEST_DEDUPE_CAPACITY")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);

  try {
    anipipe::log::init("ingest", o.common.log_level);
    const auto& stop = anipipe::runtime::install_shutdown_handlers();
    if (o.replay_file.empty()) throw std::invalid_argument("no source: give --replay FILE (or --v1-base-url)");
    auto schemas = anipipe::json::SchemaRegistry::load_directories(o.common.schema_dirs);
    anipipe::metrics::Metrics metrics("ingest", o.common.metrics_addr);

    anipipe::ingest::RecentEventIds recent(o.dedupe_capacity);
    if (o.recall_per_partition > 0) {
      const auto n = recent.recall(o.common.kafka, o.topic, o.recall_per_partition);
      spdlog::info("recalled {} announced event id(s) from {}", n, o.topic);
    }
    anipipe::kafka::Producer producer(o.common.kafka);
    anipipe::ingest::EventPublisher publisher(producer, schemas, metrics, recent, {o.topic, o.common.dlq_topic});
    anipipe::ingest::Normalizer normalizer;

    anipipe::ingest::ReplayOptions ro{o.replay_file, o.replay_pace == "recorded", o.replay_speed};
    const auto recording = anipipe::ingest::load_recording(ro.file);
    const auto started = std::chrono::steady_clock::now();
    anipipe::ingest::replay(recording, ro, normalizer, publisher, producer, stop);
    // The replay counts as done when the broker has acknowledged every event (acks=all).
    while (producer.pending() > 0 && !stop.load()) producer.flush(std::chrono::milliseconds(500));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& s = publisher.stats();
    std::printf("{\"messages\":%llu,\"events\":%llu,\"duplicates\":%llu,\"rejected\":%llu,\"ignored\":%llu,"
                "\"unknown_types\":%llu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n",
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.events),
                static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.rejected),
                static_cast<unsigned long long>(s.ignored), static_cast<unsigned long long>(s.unknown_types), seconds,
                static_cast<double>(s.messages) / seconds);
    std::fflush(stdout);
    while (o.keep_running && !stop.load()) producer.poll(std::chrono::milliseconds(200));
    anipipe::runtime::arm_shutdown_deadline(std::chrono::seconds(o.common.shutdown_timeout_s));
    if (!producer.flush(std::chrono::seconds(o.common.shutdown_timeout_s)))
      spdlog::warn("{} event(s) not acknowledged at shutdown; they are announced again after a restart", producer.pending());
    return 0;
  } catch (const std::exception& e) {
    spdlog::critical("cannot run: {}", e.what());
    return 2;
  }
}
