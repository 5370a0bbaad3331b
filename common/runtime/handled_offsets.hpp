#pragma once
// The offsets of one partition that are handled, when they need not be a prefix: everything below
// next() is, and some ranges above it are too (records handled out of offset order: sync answers
// a high-priority request before the low ones queued ahead of it, runtime/priority_window.hpp).
// Kafka keeps one committed offset per partition, so the committed offset is next() and the
// ranges ahead of it travel in the commit's metadata string (metadata()), which restore() reads
// back on assignment: an instance that takes the partition over skips what was handled already.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::runtime {

class HandledOffsets {
public:
  HandledOffsets() = default;
  /// Everything below next is handled, nothing above it yet.
  explicit HandledOffsets(std::int64_t next) : next_(next) {}

  /// Marks [first, last] handled.
  void add(std::int64_t first, std::int64_t last);
  bool contains(std::int64_t offset) const;
  /// The lowest offset not handled: the partition's committed offset.
  std::int64_t next() const { return next_; }
  /// Ranges handled above next(), apart from one another.
  std::size_t ranges() const { return ahead_.size(); }
  /// The highest offset handled (next() - 1 when nothing is above next()).
  std::int64_t last() const { return ahead_.empty() ? next_ - 1 : ahead_.rbegin()->second; }
  /// The ranges above next() as a commit's metadata: "pw1:" then "<gap>+<length>" per range, comma
  /// separated, each gap counted from the end of the range before (from next() for the first).
  /// Empty when there is none.
  std::string metadata() const;
  /// The state a commit of (next, metadata) describes. Metadata this class did not write (empty,
  /// another writer's, damaged) says nothing is handled above next.
  static HandledOffsets restore(std::int64_t next, std::string_view metadata);
  bool operator==(const HandledOffsets&) const = default;

private:
  static std::optional<std::map<std::int64_t, std::int64_t>> parse(std::int64_t next, std::string_view ranges);
  std::int64_t next_ = 0;
  std::map<std::int64_t, std::int64_t> ahead_;  // first -> last (inclusive); all above next_, none adjacent
};

}  // namespace anipipe::runtime
