#pragma once
// The recent pushes of one live topic (anilibria.new_episode, anilibria.notifications), kept per
// partition so a client that comes back with `since` can be given what it missed. Bounded by
// records per partition and by age, whatever the number of titles or users: memory does not grow
// with them. Per partition it knows the floor (the offset from which it holds every record) and
// the seam (the last offset pushed): a `since` at or above floor-1 is answered from here, an older
// one from Kafka up to the seam, so together they cover exactly what live pushes do not.
// Not thread-safe: LiveHub holds it under its lock, so a subscription and its replay see the same seam.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kafka/partition_range.hpp"
#include "stream_position.hpp"

namespace anipipe::edge {

struct HistoryLimits {
  std::size_t records_per_partition = 1'000;
  std::chrono::seconds max_age{3'600};
  std::int64_t max_recovery = 10'000;  // offsets a client may be behind and still be replayed to
  // Where the producers put a key: the position of a stream with no push yet (subscribed, welcome).
  kafka::Partitioner partitioner = kafka::Partitioner::murmur2;
};

using Replayed = std::pair<std::int64_t, std::shared_ptr<const std::string>>;  // offset, message

/// How a `since` is answered.
struct RecoveryPlan {
  enum class Kind { memory, kafka, gap } kind = Kind::gap;
  std::string gap_reason;        // gap: epoch, bound, unavailable
  std::vector<Replayed> replay;  // memory: the key's records after since, in order
  std::int32_t partition = -1;   // kafka: read from..to (inclusive) of this partition
  std::int64_t from = 0, to = -1;
};

class StreamHistory {
public:
  explicit StreamHistory(HistoryLimits limits) : limits_(limits) {}

  /// The log is known: its epoch and how many partitions it has (before any record).
  void follow(std::uint32_t epoch, std::int32_t partitions);
  /// The feed's first catch-up is done: per partition where it stands. Nothing before that was pushed.
  void caught_up(const std::map<std::int32_t, std::int64_t>& next);
  /// false if the record is not where --ws-partitioner says its key goes (the producers use another).
  bool append(std::int32_t partition, std::int64_t offset, std::string key, std::shared_ptr<const std::string> message,
              std::int64_t now_ms);
  /// Where the stream of key stands now (the seam of its partition); nullopt before caught_up.
  std::optional<StreamPosition> seam(std::string_view key) const;
  RecoveryPlan plan(std::string_view key, const StreamPosition& since, std::int64_t now_ms);
  std::optional<std::uint32_t> epoch() const { return epoch_; }

private:
  struct Entry {
    std::int64_t offset;
    std::int64_t at_ms;
    std::string key;
    std::shared_ptr<const std::string> message;
  };
  struct Partition {
    std::deque<Entry> entries;
    std::int64_t floor = 0;  // every record from here on is in entries
    std::int64_t seam = -1;  // the last offset pushed
  };
  void expire(Partition& p, std::int64_t now_ms);

  HistoryLimits limits_;
  std::optional<std::uint32_t> epoch_;
  std::int32_t partitions_ = 0;
  bool caught_up_ = false;
  std::map<std::int32_t, Partition> parts_;
};

}  // namespace anipipe::edge
