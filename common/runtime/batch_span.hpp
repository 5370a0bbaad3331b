#pragma once
// The offsets a batch of records covers, per partition: where to rewind it (first) and what to
// commit once it is done (next). Shared by the loops that work in batches.
#include <cstdint>
#include <map>
#include <vector>

#include "kafka/message.hpp"

namespace anipipe::runtime {

struct OffsetRange {
  std::int64_t first = 0;
  std::int64_t next = 0;  // one past the batch's last record
};
using BatchSpan = std::map<kafka::TopicPartition, OffsetRange>;

inline BatchSpan span_of(const std::vector<kafka::Message>& batch) {
  BatchSpan span;
  for (const auto& m : batch) {
    auto [it, fresh] = span.try_emplace(m.topic_partition(), OffsetRange{m.offset(), m.offset() + 1});
    if (!fresh) it->second.next = m.offset() + 1;
  }
  return span;
}

}  // namespace anipipe::runtime
