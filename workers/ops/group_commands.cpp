#include "group_commands.hpp"

#include <cstdio>

#include "util/clock.hpp"

namespace anipipe::ops {

std::optional<ResetTarget> parse_reset_target(std::string_view text) {
  if (text == "earliest") return ResetTarget{ResetTarget::Kind::earliest, 0};
  if (text == "latest") return ResetTarget{ResetTarget::Kind::latest, 0};
  if (auto t = util::parse_rfc3339(text))
    return ResetTarget{ResetTarget::Kind::time,
                       std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count()};
  return std::nullopt;
}

int print_group_members(kafka::Admin& admin, const std::string& group) {
  const auto d = admin.describe_group(group);
  std::printf("group %s: %s, %zu member(s)\n", group.c_str(), d.state.c_str(), d.members.size());
  for (const auto& m : d.members) {
    std::string parts;
    for (const auto& tp : m.assignment) parts += (parts.empty() ? "" : " ") + tp.to_string();
    std::printf("instance=%s client=%s host=%s partitions=%zu member=%s [%s]\n", m.instance_id.empty() ? "-" : m.instance_id.c_str(),
                m.client_id.c_str(), m.host.c_str(), m.assignment.size(), m.member_id.c_str(), parts.c_str());
  }
  return 0;
}

int print_group_lag(kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics) {
  const auto description = admin.describe_group(group);
  std::printf("group %s: %s, %zu member(s)\n", group.c_str(), description.state.c_str(), description.members.size());
  std::printf("%-34s %9s %12s %12s %12s\n", "topic", "partition", "committed", "end", "lag");
  std::int64_t total = 0;
  for (const auto& topic : topics) {
    const auto marks = admin.watermarks(topic);
    std::vector<kafka::TopicPartition> tps;
    for (const auto& [p, _] : marks) tps.push_back({topic, p});
    const auto committed = admin.group_offsets(group, tps);
    for (const auto& [p, lohi] : marks) {
      auto it = committed.find({topic, p});
      const std::int64_t c = it == committed.end() ? -1 : it->second;
      // Nothing committed yet: the group would start at the beginning (auto.offset.reset=earliest).
      const std::int64_t lag = lohi.second - (c >= 0 ? c : lohi.first);
      total += lag;
      std::printf("%-34s %9d %12s %12lld %12lld\n", topic.c_str(), p, c >= 0 ? std::to_string(c).c_str() : "-",
                  static_cast<long long>(lohi.second), static_cast<long long>(lag));
    }
  }
  std::printf("total lag: %lld\n", static_cast<long long>(total));
  return 0;
}

int reset_group(kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics, ResetTarget to,
                bool dry_run) {
  const auto description = admin.describe_group(group);
  if (!description.members.empty()) {
    std::fprintf(stderr, "group %s has %zu live member(s): stop its workers first, then reset, then start them again\n",
                 group.c_str(), description.members.size());
    std::string statics;
    for (const auto& m : description.members)
      if (!m.instance_id.empty()) statics += (statics.empty() ? "" : ", ") + m.instance_id;
    if (!statics.empty())
      std::fprintf(stderr, "static members (%s) stay in the group for the session timeout (30 s by default) after they stop; "
                           "try again then\n", statics.c_str());
    return 1;
  }
  std::map<kafka::TopicPartition, std::int64_t> target;
  for (const auto& topic : topics) {
    if (to.kind == ResetTarget::Kind::time) {
      for (const auto& [p, off] : admin.offsets_for_time(topic, to.unix_ms)) target[{topic, p}] = off;
    } else {
      for (const auto& [p, lohi] : admin.watermarks(topic))
        target[{topic, p}] = to.kind == ResetTarget::Kind::earliest ? lohi.first : lohi.second;
    }
  }
  for (const auto& [tp, off] : target) std::printf("%s -> %lld\n", tp.to_string().c_str(), static_cast<long long>(off));
  if (dry_run) {
    std::printf("dry run: nothing changed\n");
    return 0;
  }
  admin.alter_group_offsets(group, target);
  std::printf("group %s reset on %zu partition(s); its workers re-consume from there when started\n", group.c_str(),
              target.size());
  return 0;
}

}  // namespace anipipe::ops
