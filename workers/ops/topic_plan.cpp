#include "topic_plan.hpp"

namespace anipipe::ops {
namespace {

std::string describe_config_drift(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& have) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end()) add(k + " unset -> " + v);
    else if (it->second != v) add(k + " " + it->second + " -> " + v);
  }
  for (const auto& [k, v] : have)
    if (!want.count(k)) add(k + " " + v + " -> (broker default)");
  return out;
}

}  // namespace

std::vector<TopicChange> plan_topics(const std::vector<kafka::TopicSpec>& catalog, const std::map<std::string, ClusterTopic>& cluster) {
  using K = TopicChange::Kind;
  std::vector<TopicChange> changes;
  for (const auto& spec : catalog) {
    auto it = cluster.find(spec.name);
    if (it == cluster.end()) {
      changes.push_back({K::create, spec, "missing: create with " + std::to_string(spec.partitions) + " partitions"});
      continue;
    }
    const auto& have = it->second;
    if (have.partitions < spec.partitions)
      changes.push_back(
          {K::add_partitions, spec, "partitions " + std::to_string(have.partitions) + " -> " + std::to_string(spec.partitions)});
    else if (have.partitions > spec.partitions)
      changes.push_back({K::shrink_refused, spec,
                         "partitions " + std::to_string(have.partitions) + " -> " + std::to_string(spec.partitions) +
                             " (Kafka cannot remove partitions; recreate the topic by hand if you mean it)"});
    if (have.replication_factor > 0 && have.replication_factor != spec.replication_factor)
      changes.push_back({K::replication_refused, spec,
                         "replication factor " + std::to_string(have.replication_factor) + " -> " +
                             std::to_string(spec.replication_factor) +
                             " (Kafka changes it only by reassigning partitions: kafka-reassign-partitions.sh)"});
    if (have.overrides != spec.configs)
      changes.push_back({K::set_configs, spec, "configs: " + describe_config_drift(spec.configs, have.overrides)});
  }
  return changes;
}

}  // namespace anipipe::ops
