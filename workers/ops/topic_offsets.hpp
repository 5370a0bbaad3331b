#pragma once
// What each topic holds: its partitions with their first and end offsets (`topics offsets`, and
// the ops page's topic table).
#include <cstdint>
#include <string>
#include <vector>

#include "json/json_writer.hpp"
#include "kafka/admin.hpp"

namespace anipipe::ops {

struct PartitionOffsets {
  std::int32_t partition = 0;
  std::int64_t low = 0, high = 0;
};
struct TopicOffsets {
  std::string name;
  std::vector<PartitionOffsets> partitions;
  std::int64_t span() const;  // offsets held in all (records and transaction markers)
};

/// Every topic of the cluster (internal ones excluded), by name.
std::vector<TopicOffsets> topic_offsets(kafka::Admin& admin);
void write_json(json::Writer& w, const std::vector<TopicOffsets>& topics);
int print_topic_offsets(kafka::Admin& admin, bool json);

}  // namespace anipipe::ops
