#include "runtime/priority_window.hpp"

#include <algorithm>
#include <queue>
#include <stdexcept>
#include <tuple>

namespace anipipe::runtime {

/// The waiting records of one key of one partition, in offset order, as take() serves them.
struct PriorityWindow::Group {
  const kafka::TopicPartition* tp = nullptr;
  Partition* p = nullptr;
  std::vector<std::int64_t> offsets;
  std::vector<int> best;  // best[i]: the highest effective lane among offsets[i..] (inherited by offsets[i])
  std::size_t next = 0;
};

void PriorityWindow::restore(const kafka::TopicPartition& tp, std::int64_t next, std::string_view metadata) {
  Partition p;
  if (next >= 0) {
    p.handled = p.committed = HandledOffsets::restore(next, metadata);
    p.started = true;
    p.expected = next;
  }
  partitions_.insert_or_assign(tp, std::move(p));
}

PriorityWindow::Arrival PriorityWindow::add(const kafka::TopicPartition& tp, std::int64_t offset, std::string key, int lane,
                                            Clock::time_point now) {
  auto found = partitions_.find(tp);
  if (found == partitions_.end()) throw std::logic_error("priority window: " + tp.to_string() + " is not restored");
  auto& p = found->second;
  if (!p.started) {  // nothing committed: the consumer starts where auto.offset.reset says
    p.handled = p.committed = HandledOffsets(offset);
    p.started = true;
    p.expected = offset;
  }
  if (p.waiting.count(offset) || p.taken.count(offset)) return Arrival::stale;
  if (p.handled.contains(offset)) {
    if (offset >= p.expected) {
      p.handled.add(p.expected, offset);  // the offsets skipped before it go with it
      p.expected = offset + 1;
    }
    return Arrival::handled_before;
  }
  if (p.waiting.size() >= options_.capacity) {
    p.expected = offset;  // where the partition is rewound to
    return Arrival::full;
  }
  // Delivered again below where the consumer was (it was rewound): accounts for itself only.
  const auto from = offset < p.expected ? offset : p.expected;
  p.expected = std::max(p.expected, offset + 1);
  p.waiting.emplace(offset, Entry{from, std::move(key), lane, now});
  return Arrival::added;
}

int PriorityWindow::effective(const Entry& e, Clock::time_point now) const {
  if (options_.aging.count() <= 0) return e.lane;
  const auto aged = (now - e.entered) / options_.aging;
  return e.lane + static_cast<int>(std::min<std::int64_t>(aged, 1'000'000));
}

std::vector<PriorityWindow::Group> PriorityWindow::groups(Clock::time_point now) {
  std::vector<Group> out;
  for (auto& [tp, p] : partitions_) {
    std::map<std::string_view, std::size_t> of_key;
    for (const auto& [offset, e] : p.waiting) {
      auto [it, fresh] = of_key.try_emplace(e.key, out.size());
      if (fresh) out.push_back(Group{&tp, &p, {}, {}, 0});
      auto& g = out[it->second];
      g.offsets.push_back(offset);
      g.best.push_back(effective(e, now));
    }
  }
  for (auto& g : out)
    for (std::size_t i = g.best.size(); i-- > 1;) g.best[i - 1] = std::max(g.best[i - 1], g.best[i]);
  return out;
}

std::size_t PriorityWindow::range_budget(const Partition& p) const {
  const auto ranges = p.handled.ranges();
  if (ranges >= options_.max_ranges) return 0;
  // A range is written as "<gap>+<length>,", neither more than the span of offsets it lies in.
  const auto top = std::max(p.handled.last(), p.waiting.empty() ? 0 : p.waiting.rbegin()->first);
  const auto digits = std::to_string(std::max<std::int64_t>(top - p.handled.next() + 1, 1)).size();
  const auto per_range = 2 * digits + 2, used = p.handled.metadata().size() + 4;
  if (used + per_range > options_.max_metadata_bytes) return 0;
  return std::min(options_.max_ranges - ranges, (options_.max_metadata_bytes - used) / per_range);
}

std::vector<PriorityWindow::Pick> PriorityWindow::take(std::size_t max, Clock::time_point now) {
  std::vector<Pick> picks;
  if (max == 0) return picks;
  auto gs = groups(now);
  std::map<const Partition*, std::size_t> budget;
  for (const auto& [tp, p] : partitions_) budget[&p] = range_budget(p);
  auto after = [&](std::size_t a, std::size_t b) {  // a is served after b
    const Group &x = gs[a], &y = gs[b];
    if (x.best[x.next] != y.best[y.next]) return x.best[x.next] < y.best[y.next];
    const auto xe = x.p->waiting.at(x.offsets[x.next]).entered, ye = y.p->waiting.at(y.offsets[y.next]).entered;
    if (xe != ye) return xe > ye;
    return std::tie(*x.tp, x.offsets[x.next]) > std::tie(*y.tp, y.offsets[y.next]);
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(after)> heap(after);
  for (std::size_t i = 0; i < gs.size(); ++i) heap.push(i);
  std::map<const Partition*, std::vector<std::size_t>> deferred;  // out of order with no range left
  while (!heap.empty() && picks.size() < max) {
    const auto i = heap.top();
    heap.pop();
    auto& g = gs[i];
    const auto it = g.p->waiting.find(g.offsets[g.next]);
    const bool in_order = it == g.p->waiting.begin();
    if (!in_order && budget[g.p] == 0) {
      deferred[g.p].push_back(i);
      continue;
    }
    if (!in_order) --budget[g.p];
    picks.push_back({*g.tp, it->first, it->second.lane, now - it->second.entered, !in_order});
    g.p->taken.emplace(it->first, it->second.from);
    g.p->waiting.erase(it);
    if (++g.next < g.offsets.size()) heap.push(i);
    if (in_order)  // the partition's lowest moved on: what waited for it may be in order now
      for (auto d : std::exchange(deferred[g.p], {})) heap.push(d);
  }
  return picks;
}

void PriorityWindow::done(const kafka::TopicPartition& tp, std::int64_t offset) {
  auto found = partitions_.find(tp);
  if (found == partitions_.end()) return;
  auto& p = found->second;
  auto it = p.taken.find(offset);
  if (it == p.taken.end()) return;
  p.handled.add(it->second, offset);
  p.taken.erase(it);
}

std::int64_t PriorityWindow::rewind(const kafka::TopicPartition& tp) {
  auto& p = partitions_.at(tp);
  p.waiting.clear();
  p.taken.clear();
  if (!p.started) return kafka::kOffsetBeginning;  // nothing seen yet: where auto.offset.reset says
  p.expected = p.handled.next();
  return p.expected;
}

std::int64_t PriorityWindow::revert(const kafka::TopicPartition& tp) {
  auto& p = partitions_.at(tp);
  p.handled = p.committed;
  return rewind(tp);
}

const HandledOffsets& PriorityWindow::handled(const kafka::TopicPartition& tp) const { return partitions_.at(tp).handled; }

void PriorityWindow::committed(const kafka::TopicPartition& tp, const HandledOffsets& state) {
  if (auto it = partitions_.find(tp); it != partitions_.end()) it->second.committed = state;
}

std::size_t PriorityWindow::waiting(const kafka::TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? 0 : it->second.waiting.size();
}

std::size_t PriorityWindow::waiting() const {
  std::size_t n = 0;
  for (const auto& [_, p] : partitions_) n += p.waiting.size();
  return n;
}

}  // namespace anipipe::runtime
