#pragma once
// Decides which offset may be stored for each partition: a record's offset is committable only
// when its effect is done (its outputs acknowledged by the broker) *and* every earlier record of
// the same partition is done too. Pure bookkeeping, no Kafka: unit-tested alone.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "kafka/message.hpp"

namespace anipipe::kafka {

class OffsetTracker {
public:
  /// Registers a record whose effect awaits `pending` acknowledgements (0: already done).
  /// Returns the next offset to store if the done prefix advanced.
  std::optional<std::int64_t> begin(const TopicPartition& tp, std::int64_t offset, int pending);
  /// One acknowledgement for a record. Unknown records (a partition since revoked or rewound) are ignored.
  std::optional<std::int64_t> ack(const TopicPartition& tp, std::int64_t offset);
  /// Drops records at or after `offset` (they will be consumed again).
  void rewind(const TopicPartition& tp, std::int64_t offset);
  /// Drops everything of a partition (revoked).
  void forget(const TopicPartition& tp);
  /// Records still waiting for acknowledgements, across partitions.
  std::size_t in_flight() const;

private:
  struct Entry {
    std::int64_t offset;
    int pending;
  };
  std::optional<std::int64_t> advance(std::deque<Entry>& q);
  std::map<TopicPartition, std::deque<Entry>> partitions_;
};

}  // namespace anipipe::kafka
