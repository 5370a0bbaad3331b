#include "topics_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include "topic_catalog.hpp"
#include "topic_plan.hpp"

namespace anipipe::ops {

namespace {

using kafka::Admin;
using kafka::TopicSpec;

std::vector<TopicSpec> load(Admin& admin, const TopicsArgs& args) {
  std::string profile = args.profile == "none" ? "" : args.profile;
  if (profile == "auto") {
    const auto brokers = admin.cluster({"-"}).brokers.size();
    profile = auto_profile(brokers);
    if (!profile.empty()) std::fprintf(stderr, "%zu brokers: the catalog's \"%s\" profile\n", brokers, profile.c_str());
  }
  auto specs = load_topic_catalog(args.file.empty() ? default_topic_catalog() : std::filesystem::path(args.file), profile);
  if (args.partitions > 0)
    for (auto& s : specs) s.partitions = args.partitions;
  return specs;
}

std::map<std::string, ClusterTopic> describe(Admin& admin, const std::vector<TopicSpec>& specs) {
  const auto existing = admin.list_topics();
  std::vector<std::string> names;
  names.reserve(specs.size());
  for (const auto& s : specs) names.push_back(s.name);
  std::map<std::string, int> replication;
  for (const auto& p : admin.cluster(names).partitions)
    if (p.partition == 0) replication[p.topic] = static_cast<int>(p.replicas.size());
  std::map<std::string, ClusterTopic> cluster;
  for (const auto& s : specs) {
    auto it = existing.find(s.name);
    if (it == existing.end()) continue;
    cluster[s.name] = {it->second, admin.topic_overrides(s.name), replication[s.name]};
  }
  return cluster;
}

const char* marker(TopicChange::Kind k) {
  switch (k) {
    case TopicChange::Kind::create: return "+";
    case TopicChange::Kind::shrink_refused:
    case TopicChange::Kind::replication_refused: return "!";
    default: return "~";
  }
}

}  // namespace

int topics_list(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto existing = admin.list_topics();
  std::printf("%-34s %10s %10s\n", "topic", "catalog", "cluster");
  for (const auto& s : specs) {
    auto it = existing.find(s.name);
    std::printf("%-34s %10d %10s\n", s.name.c_str(), s.partitions, it == existing.end() ? "missing" : std::to_string(it->second).c_str());
  }
  for (const auto& [name, parts] : existing) {
    bool known = false;
    for (const auto& s : specs) known |= s.name == name;
    if (!known) std::printf("%-34s %10s %10d\n", name.c_str(), "-", parts);
  }
  return 0;
}

int topics_diff(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto changes = plan_topics(specs, describe(admin, specs));
  for (const auto& c : changes) std::printf("%s %s: %s\n", marker(c.kind), c.spec.name.c_str(), c.description.c_str());
  if (changes.empty()) {
    std::printf("no drift: %zu topic(s) match the catalog\n", specs.size());
    return 0;
  }
  std::printf("drift: %zu change(s); run 'anipipe-ops topics apply'\n", changes.size());
  return 1;
}

int topics_apply(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto changes = plan_topics(specs, describe(admin, specs));
  if (changes.empty()) {
    std::printf("nothing to change: %zu topic(s) already match the catalog\n", specs.size());
    return 0;
  }
  int refused = 0;
  std::vector<TopicSpec> to_create;
  for (const auto& c : changes)
    if (c.kind == TopicChange::Kind::create) to_create.push_back(c.spec);
  if (!to_create.empty()) {
    admin.create_topics(to_create);
    // The controller has them; every broker's metadata follows a moment later. Return once
    // they are visible, so that what runs next (workers, a diff) finds them on any broker.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const auto listed = admin.list_topics();
      const bool all = std::all_of(to_create.begin(), to_create.end(), [&](const TopicSpec& t) { return listed.count(t.name) > 0; });
      if (all || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  for (const auto& c : changes) {
    switch (c.kind) {
      case TopicChange::Kind::create: break;
      case TopicChange::Kind::add_partitions: admin.create_partitions(c.spec.name, c.spec.partitions); break;
      case TopicChange::Kind::set_configs: admin.alter_topic_configs(c.spec.name, c.spec.configs); break;
      case TopicChange::Kind::shrink_refused:
      case TopicChange::Kind::replication_refused: ++refused; break;
    }
    const bool refused_change = c.kind == TopicChange::Kind::shrink_refused || c.kind == TopicChange::Kind::replication_refused;
    std::printf("%s %s: %s%s\n", marker(c.kind), c.spec.name.c_str(), c.description.c_str(), refused_change ? " - refused" : " - done");
  }
  std::printf("applied %zu change(s)%s\n", changes.size() - static_cast<std::size_t>(refused), refused ? ", refused some (see '!')" : "");
  return refused ? 1 : 0;
}

}  // namespace anipipe::ops
