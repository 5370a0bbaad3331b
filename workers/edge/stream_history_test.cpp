#include "stream_history.hpp"

#include <doctest/doctest.h>

#include "kafka/partition_range.hpp"

using namespace anipipe::edge;

namespace {
std::shared_ptr<const std::string> msg(int n) { return std::make_shared<const std::string>(std::to_string(n)); }
std::vector<std::string> texts(const std::vector<Replayed>& r) {
  std::vector<std::string> out;
  out.reserve(r.size());
  for (const auto& [o, m] : r) out.push_back(*m);
  return out;
}
}  // namespace

TEST_CASE("stream position: written e<epoch>-p<partition>-o<offset>, read back, anything else refused") {
  const StreamPosition p{0xabcdef01u, 2, 12345};
  CHECK(to_string(p) == "eabcdef01-p2-o12345");
  CHECK(parse_position("eabcdef01-p2-o12345") == p);
  CHECK(parse_position("e00000001-p0-o-1") == StreamPosition{1, 0, -1});
  for (const char* bad : {"", "e1-p2-o3", "eabcdef01-p2-o", "eabcdef01-p-1-o3", "eabcdef01-p2-o3x", "xabcdef01-p2-o3", "eabcdef01-p2-o-2"})
    CHECK_MESSAGE(!parse_position(bad), bad);
  CHECK(epoch_of("cluster-a", "anilibria.new_episode") != epoch_of("cluster-b", "anilibria.new_episode"));
  CHECK(epoch_of("cluster-a", "anilibria.new_episode") == epoch_of("cluster-a", "anilibria.new_episode"));
}

TEST_CASE("stream history: since inside the history replays the key's records after it; older goes to Kafka up to the seam") {
  StreamHistory h({3, std::chrono::seconds(3600), 100, anipipe::kafka::Partitioner::consistent});
  const std::string key = "501";
  const auto part = anipipe::kafka::partition_for_key(key, 4, anipipe::kafka::Partitioner::consistent);
  CHECK(h.plan(key, {7, part, 0}, 0).gap_reason == "unavailable");  // not caught up: nothing to anchor on
  h.follow(7, 4);
  h.caught_up({{0, 10}, {1, 10}, {2, 10}, {3, 10}});
  CHECK(h.seam(key) == StreamPosition{7, part, 9});
  CHECK(h.append(part, 10, key, msg(10), 0));
  CHECK_FALSE(h.append((part + 1) % 4, 10, key, msg(10), 0));  // not where the partitioner puts the key: said so
  h.append(part, 11, "other", msg(11), 0);
  h.append(part, 12, key, msg(12), 0);
  auto p = h.plan(key, {7, part, 9}, 0);
  CHECK(p.kind == RecoveryPlan::Kind::memory);
  CHECK(texts(p.replay) == std::vector<std::string>{"10", "12"});
  CHECK(texts(h.plan(key, {7, part, 10}, 0).replay) == std::vector<std::string>{"12"});
  CHECK(h.plan(key, {7, part, 12}, 0).replay.empty());

  h.append(part, 13, key, msg(13), 0);  // 3 a partition: 10 leaves, the floor is 11
  p = h.plan(key, {7, part, 9}, 0);
  CHECK(p.kind == RecoveryPlan::Kind::kafka);
  CHECK(p.partition == part);
  CHECK(p.from == 10);
  CHECK(p.to == 13);
  CHECK(h.plan(key, {7, part, 10}, 0).kind == RecoveryPlan::Kind::memory);  // 11.. is all here
  CHECK(h.plan(key, {7, part, 20}, 0).kind == RecoveryPlan::Kind::kafka);   // ahead of this edge: Kafka decides
}

TEST_CASE("stream history: gaps for another epoch or a partition not in the topic and beyond the bound; records expire by age") {
  StreamHistory h({100, std::chrono::seconds(60), 5, anipipe::kafka::Partitioner::consistent});
  h.follow(7, 2);
  h.caught_up({{0, 0}, {1, 0}});
  const std::string key = "u";
  const auto part = anipipe::kafka::partition_for_key(key, 2, anipipe::kafka::Partitioner::consistent);
  for (int o = 0; o < 8; ++o) h.append(part, o, key, msg(o), 1000);
  CHECK(h.plan(key, {8, part, 3}, 1000).gap_reason == "epoch");
  CHECK(h.plan(key, {7, 5, 3}, 1000).gap_reason == "epoch");     // a partition the topic does not have
  CHECK(h.plan(key, {7, 1 - part, -1}, 1000).replay.empty());    // the position's own partition is read
  CHECK(h.plan(key, {7, part, 1}, 1000).gap_reason == "bound");  // 6 behind, 5 allowed
  CHECK(h.plan(key, {7, part, 2}, 1000).replay.size() == 5);
  h.append(part, 8, key, msg(8), 70'000);  // the others are older than 60 s now
  auto p = h.plan(key, {7, part, 6}, 70'000);
  CHECK(p.kind == RecoveryPlan::Kind::kafka);
  CHECK(p.from == 7);
  CHECK(h.plan(key, {7, part, 7}, 70'000).kind == RecoveryPlan::Kind::memory);
}
