#pragma once
// Tells a title's change from the same document again. For the anilibria.titles partitions this
// instance owns, it keeps each title's content hash as of the last record handled: a record whose
// hash differs is a change (title_updated); the same hash is a repeat (a redelivery after a crash
// or a rebalance, a re-drive, an identical document written again) and is not announced.
// The state is the topic's own history, as sync's catalog is (docs/design.md, "State is a
// changelog"): the first time a partition delivers a record after it was assigned, the partition is
// read from its beginning up to that record, which is everything the group had already handled.
// A title's first document is no update (the back end has nothing of it to refresh), so a new group
// reading the compacted catalog from the start announces only what compaction has not folded yet.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kafka/settings.hpp"

namespace anipipe::notify {

/// Hex of the first 128 bits of the value's SHA-256 based MAC: equal documents, equal hashes.
std::string content_hash(std::string_view value);

class TitleChanges {
public:
  enum class Verdict { first, changed, unchanged, removed };
  struct Seen {
    Verdict verdict = Verdict::first;
    std::string hash;  // of the document (empty for a removal)
  };
  /// One record of a partition's history: a document, or a tombstone (nullopt).
  using Apply = std::function<void(std::int32_t partition, std::int64_t title_id, std::optional<std::string_view> value)>;
  /// Reads the history of the partitions given: every record before the offset given for its
  /// partition, in order. Throws if it cannot (the batch is then retried).
  using HistoryReader = std::function<void(const std::map<std::int32_t, std::int64_t>& before, const Apply& apply)>;

  explicit TitleChanges(HistoryReader history) : history_(std::move(history)) {}

  /// Loads, in one read, the history of every partition among `records` (partition, offset) not
  /// known since its assignment, up to its first record there.
  void prepare(const std::vector<std::pair<std::int32_t, std::int64_t>>& records);
  /// The next record of a prepared partition: what it means, and it becomes the title's latest.
  Seen observe(std::int32_t partition, std::int64_t title_id, std::optional<std::string_view> value);
  void drop_partition(std::int32_t partition) { known_.erase(partition); }
  std::size_t titles() const;

private:
  HistoryReader history_;
  std::map<std::int32_t, std::unordered_map<std::int64_t, std::string>> known_;  // partition -> title -> hash
};

/// Reads the history from the topic (kafka::read_to_end, read_committed, no consumer group).
TitleChanges::HistoryReader catalog_history(kafka::Settings settings, std::string topic);

}  // namespace anipipe::notify
