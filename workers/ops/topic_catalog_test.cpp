#include <doctest/doctest.h>

#include "topic_catalog.hpp"

using anipipe::ops::parse_topic_catalog;
using anipipe::ops::auto_profile;
using anipipe::ops::default_topic_catalog;
using anipipe::ops::load_topic_catalog;

TEST_CASE("the project's catalog lists every docs/design.md topic with its policy") {
  auto specs = anipipe::ops::load_topic_catalog(anipipe::ops::default_topic_catalog());
  std::map<std::string, anipipe::kafka::TopicSpec> by_name;
  for (auto& s : specs) by_name[s.name] = s;
  for (const char* t :
       {"anilibria.upstream.events", "anilibria.sync_requests", "anilibria.titles", "anilibria.new_episode", "anilibria.sync_results",
        "anilibria.cache_invalidations", "anilibria.subscriptions", "anilibria.notifications", "anilibria.dlq"}) {
    CAPTURE(t);
    REQUIRE(by_name.count(t));
    CHECK(by_name[t].partitions >= 1);
    CHECK(by_name[t].configs.count("cleanup.policy"));
  }
  CHECK(by_name["anilibria.titles"].configs["cleanup.policy"] == "compact");
  CHECK(by_name["anilibria.subscriptions"].configs["cleanup.policy"] == "compact");
}

TEST_CASE("defaults merge into topics - topic values win") {
  auto specs = parse_topic_catalog(R"({"defaults":{"partitions":6,"configs":{"a":"1","b":2}},
    "topics":[{"name":"x"},{"name":"y","partitions":3,"configs":{"b":"3","c":true}}]})");
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].partitions == 6);
  CHECK(specs[0].configs == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
  CHECK(specs[1].partitions == 3);
  CHECK(specs[1].configs == std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}, {"c", "true"}});
}

TEST_CASE("bad catalogs are refused with a reason") {
  CHECK_THROWS_WITH(parse_topic_catalog("{"), doctest::Contains("not JSON"));
  CHECK_THROWS_WITH(parse_topic_catalog(R"({"topics":[{"name":"x"},{"name":"x"}]})"), doctest::Contains("twice"));
  CHECK_THROWS_WITH(parse_topic_catalog(R"({"topics":[{"name":"x","partitions":0}]})"), doctest::Contains("partitions"));
  CHECK_THROWS_WITH(parse_topic_catalog(R"({"topics":[{"partitions":1}]})"), doctest::Contains("name"));
  CHECK_THROWS_WITH(parse_topic_catalog(R"({"topics":[{"name":"x","configs":{"a":[1]}}]})"), doctest::Contains("x.configs.a"));
}

TEST_CASE("a profile describes the cluster: its replication and configs win over every topic's") {
  const std::string catalog = R"({"defaults":{"replication_factor":1,"configs":{"min.insync.replicas":"1"}},
    "profiles":{"cluster":{"replication_factor":3,"configs":{"min.insync.replicas":"2"}}},
    "topics":[{"name":"x"},{"name":"y","replication_factor":2,"configs":{"min.insync.replicas":"1","c":"k"}}]})";
  auto plain = parse_topic_catalog(catalog);
  CHECK(plain[0].replication_factor == 1);
  CHECK(plain[1].replication_factor == 2);
  auto cluster = parse_topic_catalog(catalog, "cluster");
  for (const auto& s : cluster) {
    CHECK(s.replication_factor == 3);
    CHECK(s.configs.at("min.insync.replicas") == "2");
  }
  CHECK(cluster[1].configs.at("c") == "k");
  CHECK_THROWS_WITH(parse_topic_catalog(catalog, "big"), doctest::Contains("no profile \"big\" (it has: cluster)"));
  CHECK(auto_profile(1) == "");
  CHECK(auto_profile(3) == "cluster");
  // The project's catalog has the cluster profile.
  for (const auto& s : load_topic_catalog(default_topic_catalog(), "cluster")) {
    CHECK(s.replication_factor == 3);
    CHECK(s.configs.at("min.insync.replicas") == "2");
  }
}
