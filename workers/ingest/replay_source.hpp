#pragma once
// NDJSON recordings: one upstream message a line (any form the normalizer knows, optionally in a
// {"recorded_at", "endpoint", "message"} wrapper). As fast as possible, or at the recorded pace
// (the gaps between recorded_at values) for demos and incident replays.
// As fast as possible, normalizing (parse, normalize, hash, check against the contract) is most of
// the work, so it runs on `threads` threads over consecutive chunks of the file, while the calling
// thread publishes the chunks' results strictly in file order (dedupe, produce): the topic gets
// the same records in the same order as from one thread.
#include <atomic>
#include <filesystem>

#include <simdjson.h>

#include "event_publisher.hpp"
#include "json/schema.hpp"
#include "kafka/producer.hpp"

namespace anipipe::ingest {

struct ReplayOptions {
  std::filesystem::path file;
  bool recorded_pace = false;
  double speed = 1.0;    // with recorded_pace: 2.0 plays twice as fast
  unsigned threads = 1;  // normalizing threads; 1 (and any recorded pace) normalizes on the calling thread
};

/// The whole file in one padded buffer: every line is parsed in place, no copies.
simdjson::padded_string load_recording(const std::filesystem::path& file);

/// Replays a loaded recording; returns the number of lines read. Stops early when stop is set.
/// contract: the schemas the events are checked against.
std::size_t replay(const simdjson::padded_string& text, const ReplayOptions& options, const json::SchemaRegistry& contract,
                   EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop);

}  // namespace anipipe::ingest
