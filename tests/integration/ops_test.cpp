// anipipe-ops topics apply/diff against the real broker, on a catalog of this test's own topics.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>

#include "kafka/consumer.hpp"
#include "util/clock.hpp"

#include "kafka/admin.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"

using namespace anipipe::testing;

namespace {
std::string write_catalog(const std::string& dir, const std::string& a, const std::string& b, int a_partitions,
                          const std::string& b_retention) {
  const std::string path = dir + "/topics.json";
  std::ofstream(path) << R"({"defaults":{"partitions":2,"replication_factor":1,"configs":{"min.insync.replicas":"1"}},
    "topics":[{"name":")" << a << R"(","partitions":)" << a_partitions << R"(,"configs":{"cleanup.policy":"compact"}},
              {"name":")" << b << R"(","configs":{"cleanup.policy":"delete","retention.ms":")" << b_retention << R"("}}]})";
  return path;
}
}  // namespace

TEST_CASE("topics apply creates, a second apply changes nothing, diff reports partition and config drift") {
  const auto dir = make_temp_dir("ops");
  const auto a = unique_name("ops-a"), b = unique_name("ops-b");
  const auto catalog = write_catalog(dir, a, b, 3, "3600000");
  const auto ops = ops_binary();

  auto diff0 = run_command({ops, "topics", "diff", "--file", catalog});
  CHECK(diff0.exit_code == 1);
  CHECK(diff0.output.find("+ " + a) != std::string::npos);

  auto apply1 = run_command({ops, "topics", "apply", "--file", catalog});
  INFO(apply1.output);
  REQUIRE(apply1.exit_code == 0);
  CHECK(apply1.output.find("applied 2 change(s)") != std::string::npos);

  auto apply2 = run_command({ops, "topics", "apply", "--file", catalog});
  INFO(apply2.output);
  CHECK(apply2.exit_code == 0);
  CHECK(apply2.output.find("nothing to change") != std::string::npos);

  auto diff1 = run_command({ops, "topics", "diff", "--file", catalog});
  CHECK(diff1.exit_code == 0);

  anipipe::kafka::Admin admin(test_kafka_settings());
  CHECK(admin.list_topics().at(a) == 3);
  CHECK(admin.topic_overrides(a).at("cleanup.policy") == "compact");
  CHECK(admin.topic_overrides(b).at("retention.ms") == "3600000");

  // Someone raises a's partitions and b's retention in topics/: diff must notice and fail.
  write_catalog(dir, a, b, 6, "7200000");
  auto diff2 = run_command({ops, "topics", "diff", "--file", catalog});
  INFO(diff2.output);
  CHECK(diff2.exit_code == 1);
  CHECK(diff2.output.find(a + ": partitions 3 -> 6") != std::string::npos);
  CHECK(diff2.output.find(b + ": configs: retention.ms 3600000 -> 7200000") != std::string::npos);

  auto apply3 = run_command({ops, "topics", "apply", "--file", catalog});
  CHECK(apply3.exit_code == 0);
  CHECK(admin.list_topics().at(a) == 6);
  CHECK(run_command({ops, "topics", "diff", "--file", catalog}).exit_code == 0);
}

TEST_CASE("the project's catalog applies cleanly and without drift") {
  const auto ops = ops_binary();
  auto apply = run_command({ops, "topics", "apply"});
  INFO(apply.output);
  CHECK(apply.exit_code == 0);
  auto diff = run_command({ops, "topics", "diff"});
  INFO(diff.output);
  CHECK(diff.exit_code == 0);
  CHECK(diff.output.find("no drift: 9 topic(s)") != std::string::npos);
}

TEST_CASE("a bad catalog is refused with a clear error") {
  const auto dir = make_temp_dir("ops-bad");
  std::ofstream(dir + "/bad.json") << R"({"topics":[{"name":"x","partitions":-1}]})";
  auto r = run_command({ops_binary(), "topics", "apply", "--file", dir + "/bad.json"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("partitions must be an integer") != std::string::npos);
}

TEST_CASE("groups lag and reset: replay a stopped group from earliest, from a time, or skip to latest") {
  const auto topic = unique_name("replay");
  const auto group = unique_name("replay-group");
  create_topic(topic, 2);
  std::vector<Produced> first, second;
  for (int i = 0; i < 6; ++i) first.push_back({std::to_string(i), "a"});
  for (int i = 0; i < 4; ++i) second.push_back({std::to_string(i), "b"});
  produce_all(topic, first);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto between = anipipe::util::now_rfc3339();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  produce_all(topic, second);

  auto consume_all_and_commit = [&](std::unique_ptr<anipipe::kafka::Consumer>& c) {
    anipipe::kafka::Consumer::Options o;
    o.group_id = group;
    o.topics = {topic};
    c = std::make_unique<anipipe::kafka::Consumer>(test_kafka_settings(), o);
    int n = 0;
    eventually([&] {
      auto m = c->poll(std::chrono::milliseconds(100));
      if (m && !m->is_error()) {
        c->store_offset(m->topic_partition(), m->offset() + 1);
        ++n;
      }
      return n >= 10;
    }, std::chrono::seconds(30));
    c->commit();
    return n;
  };
  std::unique_ptr<anipipe::kafka::Consumer> live;
  REQUIRE(consume_all_and_commit(live) == 10);

  const auto ops = ops_binary();
  auto lag = [&] {
    auto r = run_command({ops, "groups", "lag", "--group", group, "--topic", topic});
    const auto at = r.output.find("total lag: ");
    return at == std::string::npos ? -1 : std::stoi(r.output.substr(at + 11));
  };
  CHECK(lag() == 0);
  // A live member: refused, nothing changes.
  auto refused = run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", "earliest"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("live member") != std::string::npos);
  auto replay_refused = run_command({ops, "replay", "--group", group, "--topic", topic, "--to", "earliest"});
  CHECK(replay_refused.exit_code == 1);
  CHECK(replay_refused.output.find("live member") != std::string::npos);
  live->close();
  live.reset();

  auto dry = run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", "earliest", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(lag() == 0);
  CHECK(run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", "earliest"}).exit_code == 0);
  CHECK(lag() == 10);
  auto by_time = run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", between});
  INFO(by_time.output);
  CHECK(by_time.exit_code == 0);
  CHECK(lag() == 4);
  CHECK(run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", "latest"}).exit_code == 0);
  CHECK(lag() == 0);
  CHECK(run_command({ops, "replay", "--group", group, "--topic", topic, "--to", "earliest"}).exit_code == 0);
  CHECK(lag() == 10);
  CHECK(run_command({ops, "groups", "reset", "--group", group, "--topic", topic, "--to", "someday"}).exit_code == 2);
}
