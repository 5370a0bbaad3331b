// librdkafka 2.0.2 (through common/) against the real Apache Kafka broker from scripts/kafka:
// produce/consume with headers, consumer-group commits, transactions and compaction.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "kafka/admin.hpp"
#include "kafka/consumer.hpp"
#include "kafka/partition_range.hpp"
#include "kafka/producer.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"

using namespace anipipe;
using namespace anipipe::testing;
using namespace std::chrono_literals;

TEST_CASE("produce and consume keep order per key, values, tombstones and headers") {
  const auto topic = unique_name("basic");
  create_topic(topic, 3);
  std::vector<Produced> records;
  for (int i = 0; i < 300; ++i) records.push_back({"k" + std::to_string(i % 7), "{\"n\":" + std::to_string(i) + "}"});
  records.push_back({"k0", std::nullopt});
  const auto headers = kafka::EventHeaders::new_root("test", "corr-basic");
  produce_all(topic, records, headers);

  auto got = consume(topic, records.size(), 30s);
  REQUIRE(got.size() == records.size());
  std::map<std::string, int> last_n;
  int tombstones = 0;
  for (const auto& r : got) {
    CHECK(r.headers.at("correlation-id") == "corr-basic");
    CHECK(r.headers.at("traceparent") == headers.traceparent);
    if (!r.value) {
      ++tombstones;
      continue;
    }
    const int n = std::stoi(r.value->substr(5));
    auto it = last_n.find(*r.key);
    if (it != last_n.end()) CHECK(n > it->second);  // per-key order survives partitioning
    last_n[*r.key] = n;
  }
  CHECK(tombstones == 1);
}

TEST_CASE("a consumer group commits offsets and a restarted member resumes after them") {
  const auto topic = unique_name("group");
  const auto group = unique_name("group");
  create_topic(topic, 2);
  std::vector<Produced> first, second;
  for (int i = 0; i < 50; ++i) first.push_back({std::to_string(i), "a"});
  for (int i = 0; i < 20; ++i) second.push_back({std::to_string(i), "b"});
  produce_all(topic, first);

  auto read = [&](std::size_t want) {
    kafka::Consumer::Options o;
    o.group_id = group;
    o.topics = {topic};
    kafka::Consumer c(test_kafka_settings(), o);
    std::vector<std::string> values;
    eventually(
        [&] {
          auto m = c.poll(100ms);
          if (m && !m->is_error()) {
            values.emplace_back(*m->value());
            c.store_offset(m->topic_partition(), m->offset() + 1);
          }
          return values.size() >= want;
        },
        30s);
    c.close();  // commits
    return values;
  };
  CHECK(read(50).size() == 50);
  produce_all(topic, second);
  auto rest = read(20);
  CHECK(rest.size() == 20);
  for (const auto& v : rest) CHECK(v == "b");

  kafka::Admin admin(test_kafka_settings());
  auto committed = admin.group_offsets(group, {{topic, 0}, {topic, 1}});
  CHECK(committed.at({topic, 0}) + committed.at({topic, 1}) == 70);
}

TEST_CASE("transactions: read_committed sees committed records only, read_uncommitted sees aborted ones too") {
  const auto topic = unique_name("txn");
  create_topic(topic, 1);
  kafka::Producer::Options po;
  po.transactional_id = unique_name("txn-id");
  kafka::Producer producer(test_kafka_settings(), po);
  producer.init_transactions(30s);

  auto send = [&](const std::string& v) {
    kafka::OutRecord r;
    r.topic = topic;
    r.key = "k";
    r.value = v;
    producer.produce(r);
  };
  producer.begin_transaction();
  send("committed-1");
  send("committed-2");
  producer.commit_transaction(30s);
  producer.begin_transaction();
  send("aborted");
  producer.flush(10s);
  producer.abort_transaction(30s);
  producer.begin_transaction();
  send("committed-3");
  producer.commit_transaction(30s);

  auto committed = consume(topic, 4, 8s, true);
  std::vector<std::string> values;
  for (const auto& r : committed) values.push_back(*r.value);
  CHECK(values == std::vector<std::string>{"committed-1", "committed-2", "committed-3"});
  auto all = consume(topic, 4, 20s, false);
  CHECK(all.size() == 4);
}

TEST_CASE("a second producer with the same transactional id fences the first") {
  const auto topic = unique_name("fence");
  create_topic(topic, 1);
  kafka::Producer::Options po;
  po.transactional_id = unique_name("fence-id");
  kafka::Producer zombie(test_kafka_settings(), po);
  zombie.init_transactions(30s);
  zombie.begin_transaction();
  kafka::Producer successor(test_kafka_settings(), po);
  successor.init_transactions(30s);  // bumps the epoch: the zombie is fenced

  kafka::OutRecord r{topic, std::string("k"), std::string("zombie"), {}, -1, {}};
  bool zombie_failed = false;
  try {
    zombie.produce(r);
    zombie.commit_transaction(10s);
  } catch (const kafka::TransactionError& e) {
    zombie_failed = true;
    CHECK(e.kind == kafka::TransactionError::Kind::fatal);
  } catch (const std::exception&) {
    zombie_failed = true;
  }
  CHECK(zombie_failed);
  CHECK(consume(topic, 1, 5s).empty());
}

TEST_CASE("a compacted topic keeps the latest value per key and drops tombstoned keys") {
  const auto topic = unique_name("compact");
  // Tiny segments and no compaction lag so the cleaner runs within the test.
  create_topic(topic, 1,
               {{"cleanup.policy", "compact"},
                {"segment.ms", "100"},
                {"min.cleanable.dirty.ratio", "0.01"},
                {"min.compaction.lag.ms", "0"},
                {"delete.retention.ms", "100"}});
  std::vector<Produced> records;
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < 10; ++k) records.push_back({"title-" + std::to_string(k), "v" + std::to_string(round)});
  records.push_back({"title-9", std::nullopt});
  produce_all(topic, records);

  // A segment rolls only when a later record arrives after segment.ms; keep appending a filler
  // key until the cleaner has compacted the older segments.
  std::map<std::string, std::optional<std::string>> latest;
  std::size_t count = 0;
  const bool compacted = eventually(
      [&] {
        std::this_thread::sleep_for(300ms);
        produce_all(topic, {{"filler", "x"}});
        auto got = consume(topic, 1000, 3s);
        latest.clear();
        count = 0;
        for (const auto& r : got) {
          if (*r.key == "filler") continue;
          ++count;
          latest[*r.key] = r.value;
        }
        // title-0..8 once each; title-9 only as its tombstone (kept for delete.retention.ms) or gone.
        return count == 9 + latest.count("title-9");
      },
      60s);
  CHECK_MESSAGE(compacted, "records of compacted keys still present: " << count);
  for (int k = 0; k < 9; ++k) CHECK(latest["title-" + std::to_string(k)] == std::optional<std::string>("v2"));
  if (latest.count("title-9")) CHECK_FALSE(latest["title-9"].has_value());
}

TEST_CASE("anipipe's producers put a key in the partition Java's murmur2 gives it, as the site's kafkajs back end does") {
  // sync's topics are co-partitioned by title id: a sync request the Node.js back end publishes
  // (kafkajs: Java's murmur2) must land where the workers' events and catalog records of its title do.
  const auto topic = unique_name("partitioner");
  create_topic(topic, 12);
  std::vector<Produced> records;
  for (int id = 1; id <= 200; ++id) records.push_back({std::to_string(id), "{}"});
  produce_all(topic, records);
  const auto got = consume(topic, records.size(), std::chrono::seconds(30));
  REQUIRE(got.size() == records.size());
  int elsewhere = 0;
  for (const auto& r : got) elsewhere += r.partition != anipipe::kafka::partition_for_key(*r.key, 12, anipipe::kafka::Partitioner::murmur2);
  CHECK(elsewhere == 0);
}
