#pragma once
// anipipe-ops topics list|diff|apply: topics/topics.json (with a profile) against the cluster.
#include <string>

#include "kafka/admin.hpp"

namespace anipipe::ops {

struct TopicsArgs {
  std::string file;
  int partitions = 0;  // 0: as the catalog says
  std::string profile = "auto";
};

/// The catalog's partitions next to the cluster's.
int topics_list(kafka::Admin& admin, const TopicsArgs& args);
/// Drift between the two; 1 if there is any.
int topics_diff(kafka::Admin& admin, const TopicsArgs& args);
/// Creates missing topics, adds partitions, sets configs; 1 if a change was refused.
int topics_apply(kafka::Admin& admin, const TopicsArgs& args);

}  // namespace anipipe::ops
