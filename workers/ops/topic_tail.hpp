#pragma once
// The newest records of a topic (`anipipe-ops tail`, and the ops page's live tail): what is
// flowing through it right now, with the headers that say where each record came from.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json_writer.hpp"
#include "kafka/event_headers.hpp"
#include "kafka/settings.hpp"

namespace anipipe::ops {

struct TailRecord {
  std::int32_t partition = 0;
  std::int64_t offset = 0, timestamp_ms = -1;
  std::optional<std::string> key, value;  // value nullopt: a tombstone
  kafka::EventHeaders headers;
  std::string redrive_count;  // dlq-redrive-count, if re-driven
};

/// The newest `count` records of the topic over all its partitions, oldest first (read_committed:
/// what consumers get). Values longer than max_value_bytes are cut (the JSON says so).
std::vector<TailRecord> read_tail(const kafka::Settings& kafka, const std::string& topic, std::size_t count,
                                  std::size_t max_value_bytes = 4096);
void write_json(json::Writer& w, const std::vector<TailRecord>& records);
int print_tail(const kafka::Settings& kafka, const std::string& topic, std::size_t count, bool json);

}  // namespace anipipe::ops
