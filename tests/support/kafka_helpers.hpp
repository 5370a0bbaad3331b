#pragma once
// Direct Kafka access for integration tests, through the same common/ clients the workers use.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kafka/admin.hpp"
#include "kafka/producer.hpp"

namespace anipipe::testing {

/// Bootstrap servers of the test broker: $ANIPIPE_BROKERS or 127.0.0.1:9092.
kafka::Settings test_kafka_settings();

/// "anipipe.test.<base>.<random>": topics and groups no other test (or earlier run) uses.
std::string unique_name(const std::string& base);

/// Creates a topic; replicated $ANIPIPE_TEST_REPLICATION times (min.insync.replicas one fewer) on a
/// test cluster, else once.
void create_topic(const std::string& name, int partitions, std::map<std::string, std::string> configs = {});

struct Produced {
  std::optional<std::string> key;
  std::optional<std::string> value;
};
/// Produces and waits until every record is acknowledged; throws if any is not.
void produce_all(const std::string& topic, const std::vector<Produced>& records, const kafka::EventHeaders& headers = {});

struct Received {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
  std::map<std::string, std::string> headers;
};
/// Reads `topic` from the beginning with a fresh group until `expect` records arrived or
/// `timeout` passed; returns what arrived. read_committed unless told otherwise.
std::vector<Received> consume(const std::string& topic, std::size_t expect, std::chrono::milliseconds timeout, bool read_committed = true);

/// Reads `topic` from the beginning with a fresh group until `done(received so far)` or `timeout`.
std::vector<Received> consume_until(const std::string& topic, const std::function<bool(const std::vector<Received>&)>& done,
                                    std::chrono::milliseconds timeout, bool read_committed = true);

/// Reads `topic` as `group` and commits the offsets of the first `count` records it gets (one
/// partition: the first `count`), then leaves: the group is `end - count` behind. Returns how many
/// it committed (fewer if `timeout` passed first).
std::size_t commit_first(const std::string& topic, const std::string& group, std::size_t count, std::chrono::milliseconds timeout);

/// Paths of the binaries under test (set by CMake).
std::string probe_binary();
std::string ops_binary();
std::string ingest_binary();
std::string sync_binary();
std::string cache_binary();
std::string notify_binary();
std::string edge_binary();
std::string source_dir();

}  // namespace anipipe::testing
