#pragma once
// Reads partitions of a topic from a chosen start up to their high watermark at the time of the
// call, without a consumer group: how state is rebuilt from a changelog (sync's catalog from the
// compacted anilibria.titles, the edge's in-memory catalog, notify's subscriptions table) and how
// ingest recalls what it already announced. read_committed, so aborted transactions never leak in.
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

struct ReadStart {
  enum class Kind { earliest, tail } kind = Kind::earliest;
  std::int64_t count = 0;  // tail: at most this many records before the high watermark
  static ReadStart from_earliest() { return {}; }
  static ReadStart last(std::int64_t n) { return {Kind::tail, n}; }
};

/// Calls on_record for every record of the partitions (all of the topic's if empty) from start to
/// the high watermark; returns how many were read. Throws if the end is not reached within timeout.
std::size_t read_to_end(const Settings& settings, const std::string& topic, std::vector<std::int32_t> partitions, ReadStart start,
                        const std::function<void(const Message&)>& on_record, std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// What a read_committed reader would get from `from` to where a partition ends now: transaction
/// markers and aborted records are not records to anyone, so a caught-up group has nothing here
/// even where offsets still lie between its position and the end.
struct Readable {
  std::int64_t records = 0;              // counted up to the cap
  bool capped = false;                   // more than that: records is a lower bound
  std::int64_t first_timestamp_ms = -1;  // the oldest unread record's timestamp (-1: none)
};
Readable readable_from(const Settings& settings, const std::string& topic, std::int32_t partition, std::int64_t from,
                       std::int64_t cap = 10'000, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace anipipe::kafka
