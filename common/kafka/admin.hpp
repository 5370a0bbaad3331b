#pragma once
// Topic and consumer-group administration over librdkafka's Admin API.
// librdkafka 2.0.2 has no IncrementalAlterConfigs: alter_topic_configs replaces the topic's whole
// set of dynamic configs, which is what we want when topics/ is the source of truth.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;
};

/// Where a partition lives: its leader (-1 while it has none), replicas and in-sync replicas.
struct PartitionPlacement {
  std::string topic;
  std::int32_t partition = -1;
  std::int32_t leader = -1;
  std::vector<std::int32_t> replicas, isr;
};

struct ClusterView {
  std::vector<std::int32_t> brokers;  // the ids of the brokers the cluster lists now
  std::vector<PartitionPlacement> partitions;
};

struct GroupMember {
  std::string member_id;
  std::string instance_id;  // group.instance.id of a static member, empty for a dynamic one
  std::string client_id;
  std::string host;
  std::vector<TopicPartition> assignment;
};

struct GroupDescription {
  std::string group_id;
  std::string state;  // Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown
  std::vector<GroupMember> members;
};

class Admin {
public:
  explicit Admin(const Settings& settings, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Admin();

  /// Topic name -> partition count, internal topics excluded.
  std::map<std::string, int> list_topics();
  /// Brokers, and the placement of every partition of `topics` (all non-internal topics if empty).
  ClusterView cluster(const std::vector<std::string>& topics = {});
  /// Creates topics; a topic that already exists is not an error. Throws on any other failure.
  void create_topics(const std::vector<TopicSpec>& specs);
  /// Deletes topics; a missing topic is not an error.
  void delete_topics(const std::vector<std::string>& names);
  void create_partitions(const std::string& topic, int total);
  /// Deletes a partition's records below `before` (the log start moves there), as retention would.
  void delete_records(const std::string& topic, std::int32_t partition, std::int64_t before);
  /// Every config entry of the topic with its current value (defaults included).
  std::map<std::string, std::string> topic_configs(const std::string& topic);
  /// Only the entries set explicitly on the topic (DYNAMIC_TOPIC_CONFIG).
  std::map<std::string, std::string> topic_overrides(const std::string& topic);
  void alter_topic_configs(const std::string& topic, const std::map<std::string, std::string>& configs);

  /// Low and high watermark of every partition of a topic.
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> watermarks(const std::string& topic);
  /// The same for many topics (name -> partition count, as list_topics gives) in two requests a
  /// broker, not two a partition: a cluster's every topic at once.
  std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> watermarks(const std::map<std::string, int>& topics);
  /// Per partition, the first offset whose timestamp is at or after unix_ms (the high watermark if none).
  std::map<std::int32_t, std::int64_t> offsets_for_time(const std::string& topic, std::int64_t unix_ms);

  /// Every consumer group the cluster knows: id and state.
  std::vector<std::pair<std::string, std::string>> list_groups();
  GroupDescription describe_group(const std::string& group_id);
  /// Committed offsets of a group (-1 where none).
  std::map<TopicPartition, std::int64_t> group_offsets(const std::string& group_id, const std::vector<TopicPartition>& tps);
  void alter_group_offsets(const std::string& group_id, const std::map<TopicPartition, std::int64_t>& offsets);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anipipe::kafka
