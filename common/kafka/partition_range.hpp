#pragma once
// One partition read between two offsets, and the partition a key goes to: how the edge recovers a
// WebSocket client's missed pushes from the log beyond what it keeps in memory. A short-lived
// group-less consumer, read_committed like the feed the pushes came from.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

/// The partition's log as the read found it: records below log_start are gone (retention,
/// DeleteRecords), log_end is the next offset to be written.
struct RangeRead {
  std::int64_t log_start = 0, log_end = 0;
  std::size_t records = 0;  // handed to on_record
};

/// Calls on_record for every record of topic[partition] with from <= offset <= to, in order, up to
/// where the partition ends now. Reads nothing if from is below the log start (the caller decides
/// what a lost range means) or at or past its end. Throws if the broker does not answer in timeout.
RangeRead read_range(const Settings& settings, const std::string& topic, std::int32_t partition, std::int64_t from, std::int64_t to,
                     const std::function<void(const Message&)>& on_record, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// How producers map a key to a partition: Java's murmur2 (the Java client, kafkajs, librdkafka's
/// murmur2_random: what anipipe's producers use, common/kafka/producer.cpp), or librdkafka's own
/// default (consistent_random: CRC32), for topics other producers fill.
enum class Partitioner { consistent, murmur2 };

/// The partition a non-empty key goes to under that partitioner; -1 if there are no partitions.
std::int32_t partition_for_key(std::string_view key, std::int32_t partitions, Partitioner partitioner);

}  // namespace anipipe::kafka
