// anipipe-ops topics apply/diff against the real broker, on a catalog of this test's own topics.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <simdjson.h>

#include "kafka/consumer.hpp"
#include "util/clock.hpp"

#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "probe.hpp"
#include "process.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {
std::string write_catalog(const std::string& dir, const std::string& a, const std::string& b, int a_partitions,
                          const std::string& b_retention) {
  const std::string path = dir + "/topics.json";
  std::ofstream(path) << R"({"defaults":{"partitions":2,"replication_factor":1,"configs":{"min.insync.replicas":"1"}},
    "topics":[{"name":")"
                      << a << R"(","partitions":)" << a_partitions << R"(,"configs":{"cleanup.policy":"compact"}},
              {"name":")"
                      << b << R"(","configs":{"cleanup.policy":"delete","retention.ms":")" << b_retention << R"("}}]})";
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
  // Every topic of topics/topics.json, counted from the file so a new topic needs no edit here.
  simdjson::dom::parser parser;
  const auto topics = simdjson::dom::array(parser.load(source_dir() + "/topics/topics.json")["topics"]).size();
  CHECK(topics >= 11);
  CHECK(diff.output.find("no drift: " + std::to_string(topics) + " topic(s)") != std::string::npos);
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
    eventually(
        [&] {
          auto m = c->poll(std::chrono::milliseconds(100));
          if (m && !m->is_error()) {
            c->store_offset(m->topic_partition(), m->offset() + 1);
            ++n;
          }
          return n >= 10;
        },
        std::chrono::seconds(30));
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

namespace {

std::string probe_cmd(const std::string& id, const std::string& action) { return R"({"id":")" + id + R"(","action":")" + action + R"("})"; }

}  // namespace

TEST_CASE("ops dlq: list and filter dead letters, show one, re-drive them to their source - dry run, notes, and a loop guard") {
  anipipe::testing::ProbeSetup s;
  s.input_topic = unique_name("dlq-in");
  s.output_topic = unique_name("dlq-out");
  s.dlq_topic = unique_name("dlq");
  s.group = unique_name("dlq-group");
  s.dir = make_temp_dir("dlq");
  create_topic(s.input_topic, 2);
  create_topic(s.output_topic, 2);
  create_topic(s.dlq_topic, 1);
  produce_all(s.input_topic, {{"a", probe_cmd("a", "dead")}, {"b", probe_cmd("b", "ok")}, {"c", probe_cmd("c", "dead")}});
  auto probe = start_probe(s, "p1");
  INFO(probe->log_tail());
  REQUIRE(consume(s.dlq_topic, 2, 30s).size() == 2);
  const auto ops = ops_binary();
  auto dlq = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{ops, "dlq"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--topic", s.dlq_topic});
    return run_command(argv);
  };
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
    return n;
  };

  auto list = dlq({"list"});
  INFO(list.output);
  CHECK(list.exit_code == 0);
  CHECK(list.output.find("2 dead letter(s)") != std::string::npos);
  CHECK(list.output.find(s.input_topic) != std::string::npos);
  CHECK(dlq({"list", "--worker", "probe"}).output.find("2 dead letter(s)") != std::string::npos);
  CHECK(dlq({"list", "--worker", "sync"}).output.find("0 dead letter(s)") != std::string::npos);
  CHECK(dlq({"list", "--error", "no such error text"}).output.find("0 dead letter(s)") != std::string::npos);
  CHECK(dlq({"list", "--limit", "1"}).output.find("1 dead letter(s)") != std::string::npos);
  CHECK(dlq({"list", "--since", "2099-01-01T00:00:00Z"}).output.find("0 dead letter(s)") != std::string::npos);
  auto as_json = dlq({"list", "--json"});
  CHECK(as_json.output.find(R"("redrive_count":0)") != std::string::npos);
  auto show = dlq({"show", "0"});
  CHECK(show.exit_code == 0);
  CHECK(show.output.find(R"("action":"dead")") != std::string::npos);  // the original value
  CHECK(show.output.find("envelope:") != std::string::npos);
  CHECK(dlq({"show", "99"}).exit_code == 1);

  // A dry run publishes nothing.
  auto dry = dlq({"redrive", "--dry-run"});
  CHECK(count(dry.output, "would redrive") == 2);
  std::this_thread::sleep_for(1s);
  CHECK(consume(s.dlq_topic, 10, 3s).size() == 2);

  // Re-driven: the probe fails them again (redrive 1), and a second run does not send the same
  // dead letters twice; the new ones go round until --max-redrives refuses them.
  std::size_t dlq_records = 2;
  for (int round = 1; round <= 3; ++round) {
    INFO("round " << round);
    auto r = dlq({"redrive", "--source-topic", s.input_topic, "--max-redrives", "3"});
    CHECK(r.exit_code == 0);
    CHECK(count(r.output, "redriven ") == 2);
    dlq_records += 4;  // two notes, and the two records failed again
    REQUIRE(consume(s.dlq_topic, dlq_records, 30s).size() == dlq_records);
  }
  auto refused = dlq({"redrive", "--max-redrives", "3"});
  CHECK(refused.exit_code == 1);
  CHECK(count(refused.output, "refused ") == 2);
  CHECK(count(refused.output, "re-driven already") == 6);
  auto listed = dlq({"list"});
  CHECK(listed.output.find("(re-driven 1x)") != std::string::npos);
  CHECK(listed.output.find("8 dead letter(s)") != std::string::npos);  // notes are not dead letters
  // Every pass of the record through the worker: the original, and three re-drives.
  std::size_t dead_a = 0;
  for (const auto& r : consume(s.dlq_topic, 100, 3s)) dead_a += r.key == "a" && r.value->find("re-driven to") == std::string::npos;
  CHECK(dead_a == 4);
  probe->signal(SIGTERM);
  CHECK(exit_problem(*probe, 30s) == "");
}

TEST_CASE("ops groups lag: a caught-up group on a transactional topic reads 0, and lag has seconds") {
  const auto topic = unique_name("txn-lag");
  const auto group = unique_name("txn-lag-group");
  create_topic(topic, 1);
  anipipe::kafka::Producer::Options po;
  po.transactional_id = unique_name("txn-lag-producer");
  anipipe::kafka::Producer producer(test_kafka_settings(), po);
  producer.init_transactions(30s);
  for (int t = 0; t < 3; ++t) {  // three transactions: three commit markers among the offsets
    producer.begin_transaction();
    for (int i = 0; i < 4; ++i) producer.produce({topic, "k", "{\"n\":" + std::to_string(i) + "}", {}, -1, {}});
    producer.commit_transaction(30s);
  }
  REQUIRE(commit_first(topic, group, 12, 30s) == 12);
  auto lag = run_command({ops_binary(), "groups", "lag", "--group", group, "--topic", topic, "--json"});
  INFO(lag.output);
  CHECK(lag.output.find(R"("total_lag":0,)") != std::string::npos);  // markers are not records
  auto text = run_command({ops_binary(), "groups", "lag", "--group", group, "--topic", topic});
  CHECK(text.output.find("total lag: 0 record(s)") != std::string::npos);
  // Two records nobody read yet, two seconds old: lag in records and in seconds.
  produce_all(topic, {{"k", "{}"}, {"k", "{}"}});
  std::this_thread::sleep_for(2s);
  lag = run_command({ops_binary(), "groups", "lag", "--group", group, "--topic", topic, "--json"});
  CHECK(lag.output.find(R"("total_lag":2,)") != std::string::npos);
  const auto at = lag.output.find(R"("max_lag_seconds":)");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(lag.output.substr(at + 18)) >= 1.5);
}

TEST_CASE("ops page in headless Chromium: a group's lag, a dead letter listed and re-driven (dry run, then for real), a screenshot") {
  // A group three records behind on a topic of its own.
  const auto run = unique_name("page");  // every name of this test starts so: the page's filter
  const auto lag_topic = run + ".lag";
  const auto lag_group = run + ".lag-group";
  create_topic(lag_topic, 1);
  produce_all(lag_topic, {{"1", "{}"}, {"2", "{}"}, {"3", "{}"}, {"4", "{}"}, {"5", "{}"}});
  REQUIRE(commit_first(lag_topic, lag_group, 2, 30s) == 2);
  // A dead letter written by a real worker (the probe), and the page's DLQ on its topic.
  ProbeSetup s;
  s.input_topic = run + ".in";
  s.output_topic = run + ".out";
  s.dlq_topic = run + ".dlq";
  s.group = run + ".group";
  s.dir = make_temp_dir("ops-page");
  create_topic(s.input_topic, 1);
  create_topic(s.output_topic, 1);
  create_topic(s.dlq_topic, 1);
  auto probe = start_probe(s, "p1");
  INFO(probe->log_tail());
  produce_all(s.input_topic, {{"ok-1", probe_cmd("ok-1", "ok")}, {"poison", probe_cmd("poison", "dead")}});
  REQUIRE(consume(s.dlq_topic, 1, 30s).size() == 1);

  Process serve({ops_binary(), "--brokers", test_kafka_settings().brokers, "serve", "--listen", "127.0.0.1:0", "--dlq-topic", s.dlq_topic},
                s.dir + "/serve.log");
  const int port = listening_port(serve, 30s);
  INFO(serve.log_tail());
  REQUIRE(port > 0);
  const std::string shot = s.dir + "/ops-page.png";
  const auto url = "http://127.0.0.1:" + std::to_string(port) + "/?group=" + lag_group + "&filter=" + run + "&tail=" + s.input_topic;
  const auto r = run_command({"/usr/bin/env", "node", source_dir() + "/tests/node/ops_page.js", url, "0:0", shot}, 120s);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find(R"("lag_total":"3")") != std::string::npos);
  CHECK(r.output.find(R"("lag_rows":1,)") != std::string::npos);
  CHECK(r.output.find(R"("status":"")") != std::string::npos);  // no panel failed to load
  CHECK(r.output.find(R"("dlq_rows":1,)") != std::string::npos);
  CHECK(r.output.find(R"("dry_run":["would redrive"])") != std::string::npos);
  CHECK(r.output.find(R"("done":"Re-driven: 1, refused: 0, failed: 0")") != std::string::npos);
  CHECK(r.output.find(R"("topic_rows":4,)") != std::string::npos);  // the filter: this test's four topics
  CHECK(r.output.find(R"("group_rows":2,)") != std::string::npos);  // and its two groups
  CHECK(r.output.find(R"("tail_rows":3,)") != std::string::npos);   // the input topic's tail: two records and the re-driven one

  // The re-driven record went back to its source with the count, and the worker saw it again.
  const auto input = consume(s.input_topic, 3, 30s);
  REQUIRE(input.size() == 3);
  CHECK(input[2].key == std::optional<std::string>("poison"));
  const auto count_header = input[2].headers.find("dlq-redrive-count");
  REQUIRE(count_header != input[2].headers.end());
  CHECK(count_header->second == "1");
  const auto letters = consume(s.dlq_topic, 3, 30s);
  REQUIRE(letters.size() == 3);  // the first dead letter, the re-drive note, the second failure
  CHECK(std::count_if(letters.begin(), letters.end(), [](const Received& x) {
          return x.value && x.value->find(R"("redrive_count":1)") != std::string::npos &&
                 x.value->find("re-driven to") == std::string::npos;
        }) == 1);

  CHECK(screenshot_problem(shot) == "");
  keep_artifact(shot, "anipipe-ops-page.png");
  serve.signal(SIGTERM);
  CHECK(exit_problem(serve, 30s) == "");
  probe->signal(SIGTERM);
  CHECK(exit_problem(*probe, 30s) == "");
}
