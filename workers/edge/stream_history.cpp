#include "stream_history.hpp"

#include "kafka/partition_range.hpp"

namespace anipipe::edge {

void StreamHistory::follow(std::uint32_t epoch, std::int32_t partitions) {
  epoch_ = epoch;
  partitions_ = partitions;
}

void StreamHistory::caught_up(const std::map<std::int32_t, std::int64_t>& next) {
  // A partition that already had records during the catch-up keeps its floor (its first record);
  // the others are complete from where the feed stands.
  for (const auto& [p, n] : next)
    if (!parts_.count(p)) parts_[p] = Partition{{}, n, n - 1};
  caught_up_ = true;
}

bool StreamHistory::append(std::int32_t partition, std::int64_t offset, std::string key, std::shared_ptr<const std::string> message,
                           std::int64_t now_ms) {
  const bool expected = partitions_ <= 0 || kafka::partition_for_key(key, partitions_, limits_.partitioner) == partition;
  auto [it, added] = parts_.try_emplace(partition, Partition{{}, offset, offset - 1});
  auto& p = it->second;
  p.entries.push_back({offset, now_ms, std::move(key), std::move(message)});
  p.seam = offset;
  expire(p, now_ms);
  return expected;
}

void StreamHistory::expire(Partition& p, std::int64_t now_ms) {
  const auto oldest = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(limits_.max_age).count();
  while (!p.entries.empty() && (p.entries.size() > limits_.records_per_partition || p.entries.front().at_ms < oldest)) {
    p.floor = p.entries.front().offset + 1;
    p.entries.pop_front();
  }
}

std::optional<StreamPosition> StreamHistory::seam(std::string_view key) const {
  if (!epoch_ || !caught_up_) return std::nullopt;
  const auto partition = kafka::partition_for_key(key, partitions_, limits_.partitioner);
  const auto it = parts_.find(partition);
  if (it == parts_.end()) return std::nullopt;
  return StreamPosition{*epoch_, partition, it->second.seam};
}

RecoveryPlan StreamHistory::plan(std::string_view key, const StreamPosition& since, std::int64_t now_ms) {
  RecoveryPlan out;
  // The partition is the position's own: a push's position names where its record really is,
  // whatever partitioner the producers use.
  const auto it = parts_.find(since.partition);
  if (!epoch_ || !caught_up_ || (since.epoch == *epoch_ && since.partition < partitions_ && it == parts_.end())) {
    out.gap_reason = "unavailable";  // the feed has not caught up yet: nothing to anchor on
    return out;
  }
  // Another log (cluster or topic), or a partition it does not have: offsets mean other records.
  if (since.epoch != *epoch_ || it == parts_.end()) {
    out.gap_reason = "epoch";
    return out;
  }
  auto& p = it->second;
  if (p.seam - since.offset > limits_.max_recovery) {
    out.gap_reason = "bound";
    return out;
  }
  expire(p, now_ms);
  // A position past the seam is from further on than this edge has pushed (another instance):
  // only Kafka can tell whether it exists.
  if (since.offset + 1 >= p.floor && since.offset <= p.seam) {
    out.kind = RecoveryPlan::Kind::memory;
    for (const auto& e : p.entries)
      if (e.offset > since.offset && e.key == key) out.replay.emplace_back(e.offset, e.message);
    return out;
  }
  out.kind = RecoveryPlan::Kind::kafka;
  out.partition = since.partition;
  out.from = since.offset + 1;
  out.to = p.seam;
  return out;
}

}  // namespace anipipe::edge
