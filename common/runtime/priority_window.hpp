#pragma once
// Records read ahead from priority partitions (sync's requests), handed out by priority instead of
// in offset order (docs/design.md, "Priority"; workers/sync/README.md):
//  - Lanes: every record has one, low (0) < normal (1) < high (2). A batch takes the waiting record
//    of the highest *effective* lane first: its lane plus one for every `aging` it has waited
//    here, so a low one is taken at last however many high ones keep arriving (no starvation).
//    Ties go to the record that waited longest.
//  - Per key (a title) the records are taken in offset order: the first waiting record of a key
//    stands for the key, with the highest effective lane of all its waiting records (priority
//    inheritance), so a high request takes the earlier ones of its title along instead of
//    overtaking them.
//  - Out of order, yet exactly once: what is handled is kept per partition as HandledOffsets; its
//    next() is the offset to commit and the ranges handled ahead of it travel in the commit's
//    metadata (runtime/handled_offsets.hpp), restored on assignment, so records handled already
//    are skipped when they are consumed again. The ranges are bounded (max_ranges and
//    max_metadata_bytes): at the bound a partition's records are taken in offset order only,
//    which adds no range, until the ranges merge into the prefix again.
//  - Offsets the consumer never delivers (transaction markers, aborted records) count as handled
//    with the next record delivered after them, so they never hold the committed offset back.
//  - At most `capacity` records wait per partition; one arriving beyond it is refused (full): the
//    caller rewinds the partition to it and resumes once there is room again.
// Plain state, no Kafka: the transactional loop feeds it what it consumes and commits what it says.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/message.hpp"
#include "runtime/handled_offsets.hpp"

namespace anipipe::runtime {

struct PriorityWindowOptions {
  std::size_t capacity = 10'000;            // waiting records per partition
  std::chrono::milliseconds aging{15'000};  // one lane up per this long waited; 0: no aging
  std::size_t max_ranges = 200;             // handled ranges ahead of the committed offset, per partition
  std::size_t max_metadata_bytes = 3'000;   // below the broker's offset.metadata.max.bytes (4096)
};

class PriorityWindow {
public:
  using Clock = std::chrono::steady_clock;
  enum class Arrival {
    added,           // waits to be taken
    handled_before,  // the committed metadata says it is handled: skip it
    stale,           // already waiting or taken: skip it
    full,            // no room: rewind the partition to it and resume later
  };
  struct Pick {
    kafka::TopicPartition tp;
    std::int64_t offset = 0;
    int lane = 0;
    Clock::duration waited{};
    bool overtook = false;  // taken before a record of its partition with a lower offset
  };

  explicit PriorityWindow(PriorityWindowOptions options) : options_(options) {}
  const PriorityWindowOptions& options() const { return options_; }

  /// Whether tp is tracked (restore()d since it was assigned).
  bool knows(const kafka::TopicPartition& tp) const { return partitions_.count(tp) != 0; }
  /// Tracks tp from its committed offset and metadata; next < 0: nothing committed, the first
  /// record delivered starts it.
  void restore(const kafka::TopicPartition& tp, std::int64_t next, std::string_view metadata);
  void forget(const kafka::TopicPartition& tp) { partitions_.erase(tp); }
  /// A record consumed from tp (tp must be known).
  Arrival add(const kafka::TopicPartition& tp, std::int64_t offset, std::string key, int lane, Clock::time_point now);
  /// Takes up to max records, best effective lane first, each key's in offset order.
  std::vector<Pick> take(std::size_t max, Clock::time_point now);
  /// A taken record is handled (its outputs are in the transaction being built).
  void done(const kafka::TopicPartition& tp, std::int64_t offset);
  /// Drops what waits on tp and what was taken but not done: the offset to consume tp from again.
  std::int64_t rewind(const kafka::TopicPartition& tp);
  /// rewind(), and what is handled goes back to the last committed state (an aborted transaction).
  std::int64_t revert(const kafka::TopicPartition& tp);
  /// What is handled on tp (taken and done, committed or not): what a commit now would say.
  const HandledOffsets& handled(const kafka::TopicPartition& tp) const;
  /// A commit carrying `state` for tp is in.
  void committed(const kafka::TopicPartition& tp, const HandledOffsets& state);
  std::size_t waiting(const kafka::TopicPartition& tp) const;
  std::size_t waiting() const;

private:
  struct Entry {
    std::int64_t from = 0;  // offsets from here to the record's own are handled with it
    std::string key;
    int lane = 0;
    Clock::time_point entered{};
  };
  struct Partition {
    HandledOffsets handled, committed;
    bool started = false;       // the position is known (restored, or the first record seen)
    std::int64_t expected = 0;  // the offset the consumer delivers next
    std::map<std::int64_t, Entry> waiting;
    std::map<std::int64_t, std::int64_t> taken;  // offset -> from, until done
  };
  struct Group;
  int effective(const Entry& e, Clock::time_point now) const;
  std::vector<Group> groups(Clock::time_point now);
  /// How many more records of p may be taken out of offset order (each adds at most one range).
  std::size_t range_budget(const Partition& p) const;

  PriorityWindowOptions options_;
  std::map<kafka::TopicPartition, Partition> partitions_;
};

}  // namespace anipipe::runtime
