#pragma once
// A group consumer on the per-message poll path (the batch API can lose records under concurrent
// seek/pause/rebalance in librdkafka < 2.1: docs/design.md, "librdkafka 2.0.2 constraints").
// Offsets are stored explicitly (enable.auto.offset.store=false) and committed in the background,
// on revoke and on close:
// INTRODUCTION.md, "Offset management" / "At-least-once processing".
//
// Pause state is tracked here and only partitions we paused are ever resumed: resuming a
// partition that was not paused can rewind it under cooperative-sticky (librdkafka #4686).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafka/fatal_error.hpp"
#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

namespace detail {
struct ConsumerAccess;
}

/// Told about assignment changes, from inside Consumer::poll on the polling thread.
class RebalanceListener {
public:
  virtual ~RebalanceListener() = default;
  virtual void on_assigned(const std::vector<TopicPartition>&) {}
  /// Called before the partitions are given up, while offsets may still be stored and committed.
  /// lost=true: the group already reassigned them (session timeout); committing is no longer possible.
  virtual void on_revoking(const std::vector<TopicPartition>&, bool /*lost*/) {}
};

class Consumer {
public:
  struct Options {
    std::string group_id;
    std::vector<std::string> topics;
    /// Static membership (group.instance.id); empty = dynamic.
    std::string group_instance_id;
    bool read_committed = true;
    /// Where a group with no committed offset starts.
    std::string auto_offset_reset = "earliest";
    /// Report reaching the end of a partition (Message::is_partition_eof) — for catch-up readers.
    bool partition_eof = false;
    /// Records of these topics are handed out before any other record that is already waiting:
    /// their partitions' fetch queues are forwarded to a queue of their own that poll() empties
    /// first (librdkafka's partition queues), so a backlog of bulk records prefetched from other
    /// topics does not delay them.
    std::set<std::string> priority_topics;
    /// Called with librdkafka's statistics JSON every statistics.interval.ms (on the polling thread).
    std::function<void(std::string_view)> on_stats;
    std::map<std::string, std::string> defaults;
  };

  Consumer(const Settings& settings, Options options, RebalanceListener* listener = nullptr);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// The next record or error event (priority topics first), or nullopt on timeout. Throws
  /// kafka::FatalError when the consumer raised a fatal error (e.g. this static member was fenced
  /// by another with the same group.instance.id): nothing it does from then on can succeed.
  std::optional<Message> poll(std::chrono::milliseconds timeout);
  /// A record (or error event) of a priority topic that is already fetched, else nullopt at once;
  /// nothing else is served (no rebalance, no other topic's record).
  std::optional<Message> poll_priority();
  /// The group's committed offsets of tps, with their metadata (a round trip to the coordinator;
  /// read_committed waits for offsets of a transaction still open). Throws on failure.
  std::vector<PartitionOffset> committed(const std::vector<TopicPartition>& tps, std::chrono::milliseconds timeout) const;

  /// Marks everything before next_offset in tp as processed; committed on the next commit.
  void store_offset(const TopicPartition& tp, std::int64_t next_offset);
  /// Synchronously commits stored offsets. Returns false (and says why) if there was nothing or it failed.
  bool commit(std::string* error = nullptr);

  void pause(const TopicPartition& tp);
  /// Pauses tp and moves its fetch position to offset (records already fetched for it are
  /// discarded by librdkafka). A seek can fail when it races a rebalance; then it is tried again
  /// by resume(), and tp stays paused until it lands - resuming from the old position would skip
  /// the records being rewound. A partition not (or no longer) ours is left alone: its next
  /// owner starts from the committed offset.
  void rewind(const TopicPartition& tp, std::int64_t offset);
  /// Resumes tp if this consumer paused it, after the rewind it still owes. False if that rewind
  /// failed again: tp stays paused, call again later.
  bool resume(const TopicPartition& tp);
  bool is_paused(const TopicPartition& tp) const { return paused_.count(tp) != 0; }

  const std::set<TopicPartition>& assignment() const { return assigned_; }
  std::string member_id() const;
  /// Low and high watermarks as last fetched (no broker round trip).
  std::pair<std::int64_t, std::int64_t> watermarks(const TopicPartition& tp) const;
  /// Low and high watermarks from the broker.
  std::pair<std::int64_t, std::int64_t> query_watermarks(const TopicPartition& tp, std::chrono::milliseconds timeout) const;

  /// Commits stored offsets, revokes (calling the listener) and leaves the group. Idempotent.
  void close();

private:
  friend struct detail::ConsumerAccess;
  struct Impl;
  /// True if tp will deliver from offset next, or is no longer ours.
  bool seek(const TopicPartition& tp, std::int64_t offset);
  std::optional<Message> next(std::chrono::milliseconds timeout);

  std::unique_ptr<Impl> impl_;
  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> paused_;
  std::map<TopicPartition, std::int64_t> owed_rewinds_;  // seeks that failed, retried by resume()
  RebalanceListener* listener_;
  bool closed_ = false;
  bool joined_ = false;  // a first assignment (possibly empty) was received
};

}  // namespace anipipe::kafka
