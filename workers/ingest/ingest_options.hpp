#pragma once
// anipipe-ingest's flags and environment (its --help), parsed into one struct.
#include <cstdint>
#include <string>

#include "config/options.hpp"
#include "http/client.hpp"
#include "reconcile_sweep.hpp"
#include "topic_names.hpp"
#include "v3_websocket.hpp"

namespace anipipe::ingest {

struct IngestOptions {
  config::WorkerOptions common;
  std::string topic = topic_names::kUpstreamEvents;
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
  SweepOptions sweep;
  http::ClientOptions http;
  V3Options v3;
  int v3_idle_timeout_ms = 90'000;
};

/// Parses argv (and the ANIPIPE_INGEST_* environment); --help, or a bad flag, exits (code 2 for the latter).
IngestOptions parse_options(int argc, char** argv);

}  // namespace anipipe::ingest
