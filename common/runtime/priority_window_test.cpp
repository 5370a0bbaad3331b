#include <doctest/doctest.h>

#include "runtime/handled_offsets.hpp"
#include "runtime/priority_window.hpp"

using namespace anipipe::runtime;
using namespace std::chrono_literals;
using anipipe::kafka::TopicPartition;

namespace {
const TopicPartition kTp{"requests", 0};
constexpr int kLow = 0, kNormal = 1, kHigh = 2;

std::vector<std::int64_t> offsets(const std::vector<PriorityWindow::Pick>& picks) {
  std::vector<std::int64_t> out;
  out.reserve(picks.size());
  for (const auto& p : picks) out.push_back(p.offset);
  return out;
}

/// A window on kTp with nothing committed, holding these (offset, key, lane) records.
PriorityWindow window_of(const std::vector<std::tuple<std::int64_t, std::string, int>>& records, PriorityWindowOptions o = {},
                         PriorityWindow::Clock::time_point at = {}) {
  PriorityWindow w(o);
  w.restore(kTp, -1, "");
  for (const auto& [offset, key, lane] : records) REQUIRE(w.add(kTp, offset, key, lane, at) == PriorityWindow::Arrival::added);
  return w;
}
}  // namespace

TEST_CASE("handled offsets: a prefix and the ranges ahead of it, merged as they meet") {
  HandledOffsets h(10);
  h.add(15, 15);
  h.add(17, 19);
  CHECK(h.next() == 10);
  CHECK(h.ranges() == 2);
  CHECK(h.contains(9));
  CHECK_FALSE(h.contains(10));
  CHECK(h.contains(18));
  CHECK_FALSE(h.contains(16));
  CHECK(h.metadata() == "pw1:5+1,1+3");
  h.add(16, 16);  // joins 15 and 17-19
  CHECK(h.ranges() == 1);
  CHECK(h.metadata() == "pw1:5+5");
  h.add(10, 14);  // the prefix reaches the range: it joins the prefix
  CHECK(h.next() == 20);
  CHECK(h.ranges() == 0);
  CHECK(h.metadata().empty());
  h.add(3, 8);  // below the prefix: nothing changes
  CHECK(h.next() == 20);
}

TEST_CASE("handled offsets: restored from a commit's offset and metadata; foreign or damaged metadata says nothing") {
  HandledOffsets h(100);
  h.add(103, 104);
  h.add(200, 200);
  h.add(190, 195);
  const auto back = HandledOffsets::restore(h.next(), h.metadata());
  CHECK(back == h);
  CHECK(back.contains(200));
  CHECK_FALSE(back.contains(196));
  for (const auto* bad : {"", "something else", "pw1:", "pw1:3", "pw1:3+", "pw1:0+2", "pw1:2+0", "pw1:1+1,", "pw1:1+1;2+2", "pw1:-1+2"}) {
    CAPTURE(bad);
    const auto r = HandledOffsets::restore(50, bad);
    CHECK(r.next() == 50);
    CHECK(r.ranges() == 0);
  }
}

TEST_CASE("priority window: high before normal before low, each lane in arrival order") {
  auto w = window_of({{0, "a", kLow}, {1, "b", kNormal}, {2, "c", kHigh}, {3, "d", kLow}, {4, "e", kHigh}});
  const auto picks = w.take(10, {});
  CHECK(offsets(picks) == std::vector<std::int64_t>{2, 4, 1, 0, 3});
  CHECK(picks[0].overtook);
  CHECK(picks[0].lane == kHigh);
  CHECK_FALSE(picks[3].overtook);  // 0 was the lowest waiting by then
  CHECK(w.waiting() == 0);
}

TEST_CASE("priority window: a batch takes at most max, the rest waits for the next") {
  auto w = window_of({{0, "a", kLow}, {1, "b", kLow}, {2, "c", kHigh}});
  CHECK(offsets(w.take(2, {})) == std::vector<std::int64_t>{2, 0});
  CHECK(w.waiting() == 1);
  CHECK(offsets(w.take(2, {})) == std::vector<std::int64_t>{1});
}

TEST_CASE("priority window: aging - a low record rises a lane per aging waited, so it is not starved") {
  PriorityWindowOptions o;
  o.aging = 2s;
  const PriorityWindow::Clock::time_point t0{};
  auto w = window_of({{0, "a", kLow}}, o, t0);
  REQUIRE(w.add(kTp, 1, "b", kHigh, t0 + 3s) == PriorityWindow::Arrival::added);
  CHECK(offsets(w.take(1, t0 + 3s)) == std::vector<std::int64_t>{1});  // low has aged one lane only (normal)
  REQUIRE(w.add(kTp, 2, "c", kHigh, t0 + 3s) == PriorityWindow::Arrival::added);
  // At t0 + 4 s the low one counts as high too, and it has waited longer.
  const auto picks = w.take(1, t0 + 4s);
  CHECK(offsets(picks) == std::vector<std::int64_t>{0});
  CHECK(picks[0].waited == 4s);
}

TEST_CASE("priority window: a key's records in offset order - a high one takes the earlier ones of its key along") {
  auto w = window_of({{0, "x", kLow}, {1, "t", kLow}, {2, "u", kNormal}, {3, "t", kHigh}, {4, "v", kHigh}});
  // t's first record (1) inherits the high of its later one (3); v is high and waited as long.
  CHECK(offsets(w.take(10, {})) == std::vector<std::int64_t>{1, 3, 4, 2, 0});
}

TEST_CASE("priority window: the committed offset is the lowest not handled; what is handled ahead of it is in the metadata") {
  auto w = window_of({{10, "a", kLow}, {11, "b", kLow}, {12, "c", kHigh}, {13, "d", kLow}, {14, "e", kHigh}});
  for (const auto& p : w.take(2, {})) w.done(p.tp, p.offset);  // 12 and 14
  CHECK(w.handled(kTp).next() == 10);
  CHECK(w.handled(kTp).metadata() == "pw1:2+1,1+1");
  // A restarted instance reads the commit back: it skips 12 and 14 and takes the others.
  const auto committed = w.handled(kTp);
  PriorityWindow again({});
  again.restore(kTp, committed.next(), committed.metadata());
  for (std::int64_t o = 10; o <= 14; ++o) {
    const auto arrival = again.add(kTp, o, "k" + std::to_string(o), kLow, {});
    CHECK(arrival == (o == 12 || o == 14 ? PriorityWindow::Arrival::handled_before : PriorityWindow::Arrival::added));
  }
  CHECK(offsets(again.take(10, {})) == std::vector<std::int64_t>{10, 11, 13});
  for (std::int64_t o : {10, 11, 13}) again.done(kTp, o);
  CHECK(again.handled(kTp).next() == 15);
  CHECK(again.handled(kTp).metadata().empty());
}

TEST_CASE("priority window: offsets never delivered (transaction markers) go with the next record, never holding the offset back") {
  auto w = window_of({{0, "a", kLow}, {3, "b", kHigh}, {7, "c", kLow}});
  for (const auto& p : w.take(1, {})) w.done(p.tp, p.offset);  // 3, with 1 and 2
  CHECK(w.handled(kTp).next() == 0);
  CHECK(w.handled(kTp).metadata() == "pw1:1+3");
  for (const auto& p : w.take(10, {})) w.done(p.tp, p.offset);
  CHECK(w.handled(kTp).next() == 8);
}

TEST_CASE("priority window: at the bound on ranges a partition is taken in offset order only") {
  PriorityWindowOptions o;
  o.max_ranges = 2;
  std::vector<std::tuple<std::int64_t, std::string, int>> records;
  records.reserve(10);
  for (int i = 0; i < 10; ++i) records.emplace_back(i, "k" + std::to_string(i), i % 2 ? kHigh : kLow);
  auto w = window_of(records, o);
  const auto picks = w.take(10, {});
  // Two highs overtake (two ranges), then the rest in offset order, which adds none.
  CHECK(offsets(picks) == std::vector<std::int64_t>{1, 3, 0, 2, 4, 5, 6, 7, 8, 9});
  for (const auto& p : picks) w.done(p.tp, p.offset);
  CHECK(w.handled(kTp).next() == 10);
}

TEST_CASE("priority window: full - a record beyond the capacity is refused, and the partition continues from it") {
  PriorityWindowOptions o;
  o.capacity = 2;
  auto w = window_of({{0, "a", kLow}, {1, "b", kLow}}, o);
  CHECK(w.add(kTp, 2, "c", kHigh, {}) == PriorityWindow::Arrival::full);
  CHECK(w.add(kTp, 1, "b", kLow, {}) == PriorityWindow::Arrival::stale);
  for (const auto& p : w.take(1, {})) w.done(p.tp, p.offset);
  CHECK(w.add(kTp, 2, "c", kHigh, {}) == PriorityWindow::Arrival::added);
  CHECK(offsets(w.take(10, {})) == std::vector<std::int64_t>{2, 1});
}

TEST_CASE("priority window: rewind drops what waits; revert also forgets what was handled since the last commit") {
  auto w = window_of({{5, "a", kLow}, {6, "b", kHigh}, {7, "c", kLow}});
  for (const auto& p : w.take(1, {})) w.done(p.tp, p.offset);  // 6
  w.committed(kTp, w.handled(kTp));
  for (const auto& p : w.take(1, {})) w.done(p.tp, p.offset);  // 5
  CHECK(w.handled(kTp).next() == 7);
  CHECK(w.rewind(kTp) == 7);
  CHECK(w.waiting() == 0);
  CHECK(w.revert(kTp) == 5);  // the transaction with 5 in it was aborted
  CHECK(w.add(kTp, 5, "a", kLow, {}) == PriorityWindow::Arrival::added);
  CHECK(w.add(kTp, 6, "b", kHigh, {}) == PriorityWindow::Arrival::handled_before);
  CHECK(w.add(kTp, 7, "c", kLow, {}) == PriorityWindow::Arrival::added);
  CHECK(offsets(w.take(10, {})) == std::vector<std::int64_t>{5, 7});
}
