#include "kafka/offset_tracker.hpp"

#include <algorithm>

namespace anipipe::kafka {

std::optional<std::int64_t> OffsetTracker::advance(std::deque<Entry>& q) {
  std::optional<std::int64_t> next;
  while (!q.empty() && q.front().pending <= 0) {
    next = q.front().offset + 1;
    q.pop_front();
  }
  return next;
}

std::optional<std::int64_t> OffsetTracker::begin(const TopicPartition& tp, std::int64_t offset, int pending) {
  auto& q = partitions_[tp];
  // Offsets only grow within a partition between rewinds; a lower one means a rewind we missed.
  while (!q.empty() && q.back().offset >= offset) q.pop_back();
  q.push_back({offset, pending});
  return advance(q);
}

std::optional<std::int64_t> OffsetTracker::ack(const TopicPartition& tp, std::int64_t offset) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  auto& q = it->second;
  auto e = std::lower_bound(q.begin(), q.end(), offset, [](const Entry& a, std::int64_t o) { return a.offset < o; });
  if (e == q.end() || e->offset != offset) return std::nullopt;
  --e->pending;
  return advance(q);
}

void OffsetTracker::rewind(const TopicPartition& tp, std::int64_t offset) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;
  auto& q = it->second;
  while (!q.empty() && q.back().offset >= offset) q.pop_back();
}

void OffsetTracker::forget(const TopicPartition& tp) { partitions_.erase(tp); }

std::size_t OffsetTracker::in_flight() const {
  std::size_t n = 0;
  for (const auto& [_, q] : partitions_)
    n += static_cast<std::size_t>(std::count_if(q.begin(), q.end(), [](const Entry& e) { return e.pending > 0; }));
  return n;
}

}  // namespace anipipe::kafka
