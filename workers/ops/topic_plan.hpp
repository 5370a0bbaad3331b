#pragma once
// The difference between the catalog and the cluster, as a list of changes. Pure: the cluster
// state is passed in, so the planning is unit-tested without a broker.
#include <map>
#include <string>
#include <vector>

#include "kafka/admin.hpp"

namespace anipipe::ops {

struct ClusterTopic {
  int partitions = 0;
  std::map<std::string, std::string> overrides;  // configs set explicitly on the topic
  int replication_factor = 0;                    // replicas of its first partition; 0: unknown
};

struct TopicChange {
  enum class Kind {
    create,               // missing: create with the catalog's partitions and configs
    add_partitions,       // fewer partitions than the catalog says
    shrink_refused,       // more partitions than the catalog says: Kafka cannot remove partitions
    set_configs,          // configs differ: replace the topic's overrides with the catalog's
    replication_refused,  // another replication factor: only a partition reassignment changes it
  };
  Kind kind;
  kafka::TopicSpec spec;
  std::string description;  // one line for humans, e.g. "partitions 12 -> 24"
};

std::vector<TopicChange> plan_topics(const std::vector<kafka::TopicSpec>& catalog, const std::map<std::string, ClusterTopic>& cluster);

}  // namespace anipipe::ops
