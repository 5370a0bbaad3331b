#include <doctest/doctest.h>

#include "topic_plan.hpp"

using anipipe::ops::ClusterTopic;
using anipipe::ops::plan_topics;
using K = anipipe::ops::TopicChange::Kind;

namespace {
anipipe::kafka::TopicSpec spec(std::string name, int partitions, std::map<std::string, std::string> configs = {}) {
  return {std::move(name), partitions, 1, std::move(configs)};
}
}  // namespace

TEST_CASE("in sync: no changes") {
  auto changes = plan_topics({spec("a", 6, {{"cleanup.policy", "compact"}})}, {{"a", {6, {{"cleanup.policy", "compact"}}}}});
  CHECK(changes.empty());
}

TEST_CASE("missing topic, more partitions, fewer partitions, config drift") {
  auto changes = plan_topics(
      {spec("new", 3), spec("grow", 12), spec("shrink", 2), spec("cfg", 1, {{"retention.ms", "10"}})},
      {{"grow", {6, {}}}, {"shrink", {4, {}}}, {"cfg", {1, {{"retention.ms", "20"}, {"x", "y"}}}}, {"unrelated", {1, {}}}});
  REQUIRE(changes.size() == 4);
  CHECK(changes[0].kind == K::create);
  CHECK(changes[1].kind == K::add_partitions);
  CHECK(changes[1].description == "partitions 6 -> 12");
  CHECK(changes[2].kind == K::shrink_refused);
  CHECK(changes[3].kind == K::set_configs);
  CHECK(changes[3].description == "configs: retention.ms 20 -> 10, x y -> (broker default)");
}

TEST_CASE("another replication factor is reported and refused: only a reassignment changes it") {
  anipipe::kafka::TopicSpec spec{"t", 3, 3, {}};
  auto changes = anipipe::ops::plan_topics({spec}, {{"t", {3, {}, 1}}});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == anipipe::ops::TopicChange::Kind::replication_refused);
  CHECK(changes[0].description.find("replication factor 1 -> 3") != std::string::npos);
  CHECK(anipipe::ops::plan_topics({spec}, {{"t", {3, {}, 3}}}).empty());
  CHECK(anipipe::ops::plan_topics({spec}, {{"t", {3, {}, 0}}}).empty());  // unknown: not reported
}
