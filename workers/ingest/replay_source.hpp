#pragma once
// NDJSON recordings: one upstream message a line (any form the normalizer knows, optionally in a
// {"recorded_at", "endpoint", "message"} wrapper). As fast as possible, or at the recorded pace
// (the gaps between recorded_at values) for demos and incident replays.
#include <atomic>
#include <filesystem>

#include <simdjson.h>

#include "event_publisher.hpp"
#include "kafka/producer.hpp"
#include "upstream/normalizer.hpp"

namespace anipipe::ingest {

struct ReplayOptions {
  std::filesystem::path file;
  bool recorded_pace = false;
  double speed = 1.0;  // with recorded_pace: 2.0 plays twice as fast
};

/// The whole file in one padded buffer: every line is parsed in place, no copies.
simdjson::padded_string load_recording(const std::filesystem::path& file);

/// Replays a loaded recording; returns the number of lines read. Stops early when stop is set.
std::size_t replay(const simdjson::padded_string& text, const ReplayOptions& options, upstream::Normalizer& normalizer,
                   EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop);

}  // namespace anipipe::ingest
