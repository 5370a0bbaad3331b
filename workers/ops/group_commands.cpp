#include "group_commands.hpp"

#include <cstdio>

#include "kafka/topic_reader.hpp"
#include "util/clock.hpp"

#include <algorithm>

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

int print_group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics,
                    bool json) {
  const auto description = admin.describe_group(group);
  if (!json) {
    std::printf("group %s: %s, %zu member(s)\n", group.c_str(), description.state.c_str(), description.members.size());
    std::printf("%-34s %9s %12s %12s %10s %10s\n", "topic", "partition", "committed", "end", "lag", "lag_s");
  }
  std::int64_t total = 0;
  double worst_seconds = 0;
  bool capped_any = false;
  const auto now_ms = util::now_unix_ms();
  std::string rows;
  for (const auto& topic : topics) {
    const auto marks = admin.watermarks(topic);
    std::vector<kafka::TopicPartition> tps;
    for (const auto& [p, _] : marks) tps.push_back({topic, p});
    const auto committed = admin.group_offsets(group, tps);
    for (const auto& [p, lohi] : marks) {
      auto it = committed.find({topic, p});
      const std::int64_t c = it == committed.end() ? -1 : it->second;
      // Nothing committed yet: the group would start at the beginning (auto.offset.reset=earliest).
      const auto readable = kafka::readable_from(kafka, topic, p, c >= 0 ? c : lohi.first);
      const double seconds = readable.records > 0 && readable.first_timestamp_ms > 0
                                 ? std::max<double>(0, static_cast<double>(now_ms - readable.first_timestamp_ms) / 1000.0)
                                 : 0.0;
      total += readable.records;
      worst_seconds = std::max(worst_seconds, seconds);
      capped_any |= readable.capped;
      const std::string lag = (readable.capped ? ">=" : "") + std::to_string(readable.records);
      if (json) {
        char row[512];
        std::snprintf(row, sizeof row, R"(%s{"topic":"%s","partition":%d,"committed":%lld,"end":%lld,"lag":%lld,"lag_capped":%s,"lag_seconds":%.3f})",
                      rows.empty() ? "" : ",", topic.c_str(), p, static_cast<long long>(c), static_cast<long long>(lohi.second),
                      static_cast<long long>(readable.records), readable.capped ? "true" : "false", seconds);
        rows += row;
      } else {
        std::printf("%-34s %9d %12s %12lld %10s %10.1f\n", topic.c_str(), p, c >= 0 ? std::to_string(c).c_str() : "-",
                    static_cast<long long>(lohi.second), lag.c_str(), seconds);
      }
    }
  }
  if (json) {
    std::printf(R"({"group":"%s","state":"%s","members":%zu,"partitions":[%s],"total_lag":%lld,"total_lag_capped":%s,"max_lag_seconds":%.3f})" "\n",
                group.c_str(), description.state.c_str(), description.members.size(), rows.c_str(), static_cast<long long>(total),
                capped_any ? "true" : "false", worst_seconds);
  } else {
    std::printf("total lag: %s%lld record(s), oldest unread %.1f s (records a read_committed reader would read: transaction markers "
                "are not counted)\n",
                capped_any ? ">=" : "", static_cast<long long>(total), worst_seconds);
  }
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
