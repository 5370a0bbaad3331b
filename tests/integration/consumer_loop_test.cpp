// The shared consumer loop (common/runtime) in a real worker process against the real broker:
// dead letters, retries without skipping, header propagation, metrics, graceful shutdown.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "kafka/admin.hpp"
#include "kafka_helpers.hpp"
#include "probe.hpp"

using namespace anipipe;
using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

ProbeSetup make_setup(const std::string& name, int partitions) {
  ProbeSetup s;
  s.input_topic = unique_name(name + "-in");
  s.output_topic = unique_name(name + "-out");
  s.dlq_topic = unique_name(name + "-dlq");
  s.group = unique_name(name + "-group");
  s.dir = make_temp_dir(name);
  create_topic(s.input_topic, partitions);
  create_topic(s.output_topic, partitions);
  create_topic(s.dlq_topic, 1);
  return s;
}

std::string cmd(const std::string& id, const std::string& action) { return R"({"id":")" + id + R"(","action":")" + action + R"("})"; }

std::int64_t committed_total(const ProbeSetup& s, int partitions) {
  kafka::Admin admin(test_kafka_settings());
  std::vector<kafka::TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back({s.input_topic, p});
  std::int64_t total = 0;
  for (const auto& [tp, off] : admin.group_offsets(s.group, tps)) total += std::max<std::int64_t>(off, 0);
  return total;
}

std::string http_get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("not JSON, schema violations, permanent errors and poison records go to the DLQ with the reason - the partition moves on") {
  auto s = make_setup("dlq", 1);
  s.extra_args = {"--metrics-addr", "127.0.0.1:19464"};
  produce_all(s.input_topic, {{"k1", "this is not json {"},
                              {"k2", R"({"id":"no-action"})"},
                              {"k3", cmd("dead", "dead")},
                              {"k4", cmd("poison", "throw")},
                              {"k5", std::string("\xff\xfe\x00\x01", 4)},
                              {"k6", cmd("after", "ok")}});
  auto probe = start_probe(s, "p1");

  auto out = consume(s.output_topic, 1, 60s);
  INFO(probe->log_tail());
  REQUIRE(out.size() == 1);
  CHECK(out[0].value->find(R"("id":"after")") != std::string::npos);

  auto dlq = consume(s.dlq_topic, 5, 30s);
  REQUIRE(dlq.size() == 5);
  std::map<std::string, Received> by_key;
  for (auto& r : dlq) by_key[*r.key] = r;
  CHECK(by_key["k1"].headers["dlq-error"].find("not JSON") != std::string::npos);
  CHECK(by_key["k2"].headers["dlq-error"].find("violates schema anipipe.test.probe") != std::string::npos);
  CHECK(by_key["k2"].headers["dlq-error"].find("action") != std::string::npos);
  CHECK(by_key["k3"].headers["dlq-error"] == "probe: permanent error requested");
  CHECK(by_key["k4"].headers["dlq-error"].find("handler failed 3 times") != std::string::npos);
  CHECK(by_key["k5"].value->find("value_base64") != std::string::npos);
  for (auto& [key, r] : by_key) {
    CAPTURE(key);
    CHECK(r.headers["dlq-source-topic"] == s.input_topic);
    CHECK(r.headers["dlq-source-partition"] == "0");
    CHECK(r.headers["dlq-worker"] == "probe");
    CHECK(r.headers["schema"] == "anilibria.dlq");
    CHECK(r.value->find(R"("source":{"topic":")" + s.input_topic) != std::string::npos);
  }
  CHECK(by_key["k1"].headers["dlq-source-offset"] == "0");
  CHECK(by_key["k4"].headers["dlq-source-offset"] == "3");

  // Every record is accounted for, so all six offsets get committed.
  CHECK(eventually([&] { return committed_total(s, 1) == 6; }, 20s));

  auto metrics = http_get(19464, "/metrics");
  CHECK(metrics.find("anipipe_records_in_total{topic=\"" + s.input_topic + "\"}") != std::string::npos);
  CHECK(metrics.find("outcome=\"dead_letter\"") != std::string::npos);
  CHECK(metrics.find("anipipe_handler_seconds_bucket") != std::string::npos);
  CHECK(metrics.find("anipipe_rebalances_total") != std::string::npos);
  CHECK(eventually([&] { return http_get(19464, "/metrics").find("anipipe_consumer_lag{") != std::string::npos; }, 15s));

  probe->signal(SIGTERM);
  CHECK(exit_problem(*probe, 30s) == "");
}

TEST_CASE("retry_later pauses and retries the record without skipping it - outputs carry the input's trace") {
  auto s = make_setup("retry", 1);
  const auto headers = kafka::EventHeaders::new_root("test", "corr-retry");
  std::vector<Produced> in{{"k", cmd("first", "retry:3")}};
  for (int i = 0; i < 5; ++i) in.push_back({"k", cmd("next-" + std::to_string(i), "ok")});
  produce_all(s.input_topic, in, headers);
  auto probe = start_probe(s, "p1");

  auto out = consume(s.output_topic, 6, 60s);
  INFO(probe->log_tail());
  REQUIRE(out.size() == 6);
  CHECK(out[0].value->find(R"({"id":"first","by":"p1","attempt":4})") != std::string::npos);
  for (int i = 0; i < 5; ++i) CHECK(out[static_cast<std::size_t>(i) + 1].value->find("next-" + std::to_string(i)) != std::string::npos);
  for (const auto& r : out) {
    CHECK(r.headers.at("correlation-id") == "corr-retry");
    CHECK(r.headers.at("traceparent").substr(3, 32) == headers.traceparent.substr(3, 32));
    CHECK(r.headers.at("traceparent") != headers.traceparent);
    CHECK(r.headers.at("schema") == "anipipe.test.probe_out");
    CHECK(r.headers.at("schema-version") == "1");
    CHECK(r.headers.at("producer") == "probe");
  }
  CHECK(consume(s.dlq_topic, 1, 2s).empty());
  CHECK(eventually([&] { return committed_total(s, 1) == 6; }, 20s));
}

TEST_CASE("SIGTERM finishes in-flight work, commits exactly what is done, and leaves the group in time") {
  auto s = make_setup("shutdown", 1);
  // A dynamic member: it leaves the group on close. (A static member - the default - stays
  // listed so that its restart takes its partitions back at once: failover_test.cpp.)
  s.extra_args = {"--static-membership", "false"};
  std::vector<Produced> in;
  for (int i = 0; i < 40; ++i) in.push_back({"k", cmd("s-" + std::to_string(i), "sleep:100")});
  produce_all(s.input_topic, in);
  auto probe = start_probe(s, "p1");
  REQUIRE(eventually([&] { return consume(s.output_topic, 5, 1s).size() >= 5; }, 60s));

  const auto t0 = std::chrono::steady_clock::now();
  probe->signal(SIGTERM);
  auto code = probe->wait_for(25s);
  INFO(probe->log_tail());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);

  // The commit covers exactly the records whose outputs exist: nothing skipped, nothing redone.
  const auto committed = committed_total(s, 1);
  const auto outputs = consume(s.output_topic, 40, 3s);
  CHECK(committed > 0);
  CHECK(committed < 40);
  CHECK(static_cast<std::int64_t>(outputs.size()) == committed);

  // The group is empty at once (the member left instead of timing out).
  kafka::Admin admin(test_kafka_settings());
  CHECK(admin.describe_group(s.group).members.empty());

  // A restart resumes after the commit and finishes the rest.
  auto again = start_probe(s, "p2");
  auto all = consume(s.output_topic, 40, 60s);
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.value->substr(7, r.value->find('"', 7) - 7));
  CHECK(ids.size() == 40);
  CHECK(all.size() == 40);  // and redid none
  again->signal(SIGTERM);
  CHECK(exit_problem(*again, 30s) == "");
}
