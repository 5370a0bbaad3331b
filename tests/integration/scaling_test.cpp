// Workers scale by partition count: two processes of one worker in one group on a 6-partition
// topic split it; SIGKILL one and the other takes over; every record is processed (by id).
#include <doctest/doctest.h>

#include <signal.h>

#include <set>

#include "kafka_helpers.hpp"
#include "probe.hpp"

using namespace anipipe;
using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {
std::vector<Produced> batch(int from, int to) {
  std::vector<Produced> v;
  for (int i = from; i < to; ++i) v.push_back({"title-" + std::to_string(i), R"({"id":"id-)" + std::to_string(i) + R"(","action":"ok"})"});
  return v;
}
std::set<std::string> processed_ids(const std::vector<Received>& out, std::map<std::string, int>* by_instance = nullptr) {
  std::set<std::string> ids;
  for (const auto& r : out) {
    const auto& v = *r.value;
    auto id_at = v.find("\"id\":\"") + 6;
    ids.insert(v.substr(id_at, v.find('"', id_at) - id_at));
    if (by_instance) {
      auto by_at = v.find("\"by\":\"") + 6;
      ++(*by_instance)[v.substr(by_at, v.find('"', by_at) - by_at)];
    }
  }
  return ids;
}
}  // namespace

TEST_CASE("two instances share six partitions disjointly - after SIGKILL of one the other takes over and nothing is lost") {
  ProbeSetup s;
  s.input_topic = unique_name("scale-in");
  s.output_topic = unique_name("scale-out");
  s.dlq_topic = unique_name("scale-dlq");
  s.group = unique_name("scale-group");
  s.dir = make_temp_dir("scale");
  create_topic(s.input_topic, 6);
  create_topic(s.output_topic, 6);
  create_topic(s.dlq_topic, 1);

  auto a = start_probe(s, "a");
  auto b = start_probe(s, "b");
  const auto split = [&] {
    auto pa = probe_assignment(s, "a"), pb = probe_assignment(s, "b");
    std::set<int> all(pa.begin(), pa.end());
    all.insert(pb.begin(), pb.end());
    return !pa.empty() && !pb.empty() && all.size() == 6 && pa.size() + pb.size() == 6;
  };
  INFO("a: " << a->log_tail(2000));
  INFO("b: " << b->log_tail(2000));
  REQUIRE(eventually(split, 60s));

  produce_all(s.input_topic, batch(0, 600));
  std::map<std::string, int> by_instance;
  auto first = consume(s.output_topic, 600, 60s);
  CHECK(processed_ids(first, &by_instance).size() == 600);
  CHECK(by_instance["a"] > 0);
  CHECK(by_instance["b"] > 0);

  // Kill b without a chance to commit or leave; a must get all six partitions once the session
  // times out, and process what b left behind plus what arrives meanwhile.
  b->signal(SIGKILL);
  REQUIRE(b->wait_for(10s).has_value());
  produce_all(s.input_topic, batch(600, 1200));
  REQUIRE(eventually([&] { return probe_assignment(s, "a").size() == 6; }, 60s));

  auto all = consume_until(
      s.output_topic, [](const auto& got) { return processed_ids(got).size() >= 1200; }, 90s);
  auto ids = processed_ids(all);
  CHECK(ids.size() == 1200);  // at least once, by id: none lost
  CHECK(all.size() >= 1200);

  a->signal(SIGTERM);
  CHECK(exit_problem(*a, 30s) == "");
}
