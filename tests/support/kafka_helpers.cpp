#include "kafka_helpers.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "kafka/consumer.hpp"

namespace anipipe::testing {

kafka::Settings test_kafka_settings() {
  kafka::Settings s;
  if (const char* b = std::getenv("ANIPIPE_BROKERS"); b && *b) s.brokers = b;
  s.client_id = "anipipe-tests";
  return s;
}

std::string unique_name(const std::string& base) {
  static std::mt19937_64 rng{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return "anipipe.test." + base + "." + suffix;
}

void create_topic(const std::string& name, int partitions, std::map<std::string, std::string> configs) {
  kafka::Admin admin(test_kafka_settings());
  // On a test cluster (scripts/kafka --brokers 3) topics are replicated as the cluster profile says.
  int replication = 1;
  if (const char* r = std::getenv("ANIPIPE_TEST_REPLICATION"); r && *r) replication = std::atoi(r);
  if (replication > 1) configs.emplace("min.insync.replicas", std::to_string(replication - 1));
  admin.create_topics({{name, partitions, replication, std::move(configs)}});
}

void produce_all(const std::string& topic, const std::vector<Produced>& records, const kafka::EventHeaders& headers) {
  kafka::Producer producer(test_kafka_settings());
  std::size_t acked = 0;
  std::string failure;
  for (const auto& r : records) {
    kafka::OutRecord out;
    out.topic = topic;
    out.key = r.key;
    out.value = r.value;
    out.headers = headers;
    producer.produce(out, [&](const kafka::DeliveryResult& d) {
      if (d.ok) ++acked;
      else failure = d.error;
    });
  }
  if (!producer.flush(std::chrono::seconds(30)) || acked != records.size())
    throw std::runtime_error("produce to " + topic + " failed: " + std::to_string(acked) + "/" + std::to_string(records.size()) +
                             " acknowledged; " + failure);
}

std::vector<Received> consume(const std::string& topic, std::size_t expect, std::chrono::milliseconds timeout, bool read_committed) {
  return consume_until(
      topic, [expect](const std::vector<Received>& got) { return got.size() >= expect; }, timeout, read_committed);
}

std::size_t commit_first(const std::string& topic, const std::string& group, std::size_t count, std::chrono::milliseconds timeout) {
  kafka::Consumer::Options o;
  o.group_id = group;
  o.topics = {topic};
  kafka::Consumer consumer(test_kafka_settings(), o);
  std::size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (n < count && std::chrono::steady_clock::now() < deadline) {
    auto m = consumer.poll(std::chrono::milliseconds(100));
    if (!m || m->is_error()) continue;
    consumer.store_offset(m->topic_partition(), m->offset() + 1);
    ++n;
  }
  consumer.commit();
  consumer.close();
  return n;
}

std::vector<Received> consume_until(const std::string& topic, const std::function<bool(const std::vector<Received>&)>& done,
                                    std::chrono::milliseconds timeout, bool read_committed) {
  kafka::Consumer::Options o;
  o.group_id = unique_name("reader");
  o.topics = {topic};
  o.read_committed = read_committed;
  kafka::Consumer consumer(test_kafka_settings(), o);
  std::vector<Received> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(out) && std::chrono::steady_clock::now() < deadline) {
    auto m = consumer.poll(std::chrono::milliseconds(100));
    if (!m || m->is_error()) continue;
    Received r;
    if (auto k = m->key()) r.key = std::string(*k);
    if (auto v = m->value()) r.value = std::string(*v);
    r.partition = m->partition();
    r.offset = m->offset();
    r.timestamp_ms = m->timestamp_ms();
    for (const char* h : {"traceparent", "correlation-id", "schema", "schema-version", "producer", "dlq-source-topic",
                          "dlq-source-partition", "dlq-source-offset", "dlq-error", "dlq-worker", "dlq-redrive-count"})
      if (auto v = m->header(h)) r.headers[h] = std::string(*v);
    out.push_back(std::move(r));
  }
  consumer.close();
  return out;
}

namespace {
/// The binary built with the tests, or the one of that name in $ANIPIPE_TEST_BIN_DIR (to run the
/// tests against other binaries: an installed release, or the build before a change).
std::string binary(const char* built) {
  const char* dir = std::getenv("ANIPIPE_TEST_BIN_DIR");
  if (!dir || !*dir) return built;
  const std::string path(built);
  return std::string(dir) + "/" + path.substr(path.rfind('/') + 1);
}
}  // namespace

std::string probe_binary() { return binary(ANIPIPE_PROBE_BIN); }
std::string ops_binary() { return binary(ANIPIPE_OPS_BIN); }
std::string ingest_binary() { return binary(ANIPIPE_INGEST_BIN); }
std::string sync_binary() { return binary(ANIPIPE_SYNC_BIN); }
std::string cache_binary() { return binary(ANIPIPE_CACHE_BIN); }
std::string notify_binary() { return binary(ANIPIPE_NOTIFY_BIN); }
std::string edge_binary() { return binary(ANIPIPE_EDGE_BIN); }
std::string source_dir() { return ANIPIPE_DEFAULT_SOURCE_DIR; }

}  // namespace anipipe::testing
