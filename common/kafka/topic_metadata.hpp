#pragma once
// Partition discovery and watermarks for the group-less readers (topic_reader, topic_follower).
// Internal to common/kafka: takes a raw handle.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kafka/handles.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka::detail {

/// A consumer that is assigned partitions and never joins a group (read_committed, end-of-partition
/// events on, nothing committed).
HandlePtr make_groupless_consumer(const Settings& settings, const char* group_id);

/// Every partition id of topic; throws if the topic does not exist.
std::vector<std::int32_t> partitions_of(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout);
/// (low, high) watermarks of one partition. A topic created a moment ago may not have its leaders
/// yet: transient errors are retried within timeout, then thrown.
std::pair<std::int64_t, std::int64_t> watermarks(rd_kafka_t* rk, const std::string& topic, std::int32_t partition,
                                                 std::chrono::milliseconds timeout);

}  // namespace anipipe::kafka::detail
