#include "group_commands.hpp"

#include <cstdio>

#include "kafka/topic_reader.hpp"
#include "print_json.hpp"
#include "util/clock.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace anipipe::ops {

std::optional<ResetTarget> parse_reset_target(std::string_view text) {
  if (text == "earliest") return ResetTarget{ResetTarget::Kind::earliest, 0};
  if (text == "latest") return ResetTarget{ResetTarget::Kind::latest, 0};
  if (auto t = util::parse_rfc3339(text))
    return ResetTarget{ResetTarget::Kind::time, std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count()};
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

GroupLag group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, std::vector<std::string> topics) {
  GroupLag out;
  out.description = admin.describe_group(group);
  std::map<kafka::TopicPartition, std::string> owners;
  for (const auto& m : out.description.members)
    for (const auto& tp : m.assignment) owners[tp] = m.instance_id.empty() ? m.client_id : m.instance_id;
  std::map<kafka::TopicPartition, std::int64_t> committed;
  if (topics.empty()) {
    committed = admin.group_offsets(group, {});
    std::set<std::string> found;
    for (const auto& [tp, _] : committed) found.insert(tp.topic);
    for (const auto& [tp, _] : owners) found.insert(tp.topic);
    topics.assign(found.begin(), found.end());
  }
  const auto now_ms = util::now_unix_ms();
  for (const auto& topic : topics) {
    const auto marks = admin.watermarks(topic);
    std::vector<kafka::TopicPartition> tps;
    tps.reserve(marks.size());
    for (const auto& [p, _] : marks) tps.push_back({topic, p});
    const auto offsets = admin.group_offsets(group, tps);
    for (const auto& [p, lohi] : marks) {
      PartitionLag row;
      row.topic = topic;
      row.partition = p;
      row.end = lohi.second;
      if (auto it = offsets.find({topic, p}); it != offsets.end()) row.committed = it->second;
      if (auto it = owners.find({topic, p}); it != owners.end()) row.owner = it->second;
      // Only a partition with offsets left is read (a reader per partition is not free).
      if (std::max(row.committed, lohi.first) < lohi.second) {
        const auto readable = kafka::readable_from(kafka, topic, p, row.committed >= 0 ? row.committed : lohi.first);
        row.lag = readable.records;
        row.capped = readable.capped;
        if (readable.records > 0 && readable.first_timestamp_ms > 0)
          row.seconds = std::max<double>(0, static_cast<double>(now_ms - readable.first_timestamp_ms) / 1000.0);
      }
      out.total += row.lag;
      out.capped |= row.capped;
      out.max_seconds = std::max(out.max_seconds, row.seconds);
      out.partitions.push_back(std::move(row));
    }
  }
  return out;
}

void write_json(json::Writer& w, const kafka::GroupDescription& d) {
  w.begin_object().field("group", d.group_id).field("state", d.state).key("members").begin_array();
  for (const auto& m : d.members) {
    w.begin_object()
        .field("instance_id", m.instance_id)
        .field("client_id", m.client_id)
        .field("host", m.host)
        .field("member_id", m.member_id)
        .key("partitions")
        .begin_array();
    for (const auto& tp : m.assignment) w.value(tp.to_string());
    w.end_array().end_object();
  }
  w.end_array().end_object();
}

void write_json(json::Writer& w, const GroupLag& lag) {
  const auto& d = lag.description;
  w.begin_object().field("group", d.group_id).field("state", d.state).field("members", static_cast<std::int64_t>(d.members.size()));
  w.key("partitions").begin_array();
  for (const auto& r : lag.partitions)
    w.begin_object()
        .field("topic", r.topic)
        .field("partition", static_cast<std::int64_t>(r.partition))
        .field("committed", r.committed)
        .field("end", r.end)
        .field("lag", r.lag)
        .field("lag_capped", r.capped)
        .field("lag_seconds", r.seconds)
        .field("owner", r.owner)
        .end_object();
  w.end_array().field("total_lag", lag.total).field("total_lag_capped", lag.capped).field("max_lag_seconds", lag.max_seconds).end_object();
}

int print_group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics,
                    bool json) {
  const auto lag = group_lag(kafka, admin, group, topics);
  if (json) {
    print_json(lag);
    return 0;
  }
  std::printf("group %s: %s, %zu member(s)\n", group.c_str(), lag.description.state.c_str(), lag.description.members.size());
  std::printf("%-34s %9s %12s %12s %10s %10s  %s\n", "topic", "partition", "committed", "end", "lag", "lag_s", "owner");
  for (const auto& r : lag.partitions)
    std::printf("%-34s %9d %12s %12lld %10s %10.1f  %s\n", r.topic.c_str(), r.partition,
                r.committed >= 0 ? std::to_string(r.committed).c_str() : "-", static_cast<long long>(r.end),
                ((r.capped ? ">=" : "") + std::to_string(r.lag)).c_str(), r.seconds, r.owner.empty() ? "-" : r.owner.c_str());
  std::printf("total lag: %s%lld record(s), oldest unread %.1f s (records a read_committed reader would read: transaction markers "
              "are not counted)\n",
              lag.capped ? ">=" : "", static_cast<long long>(lag.total), lag.max_seconds);
  return 0;
}

std::vector<GroupSummary> list_groups(kafka::Admin& admin) {
  std::vector<GroupSummary> out;
  for (const auto& [id, state] : admin.list_groups()) {
    GroupSummary g{id, state, 0};
    try {
      const auto d = admin.describe_group(id);
      g.state = d.state;
      g.members = d.members.size();
    } catch (const std::exception&) {
      // A group that went away between the two calls: listed as it was.
    }
    out.push_back(std::move(g));
  }
  return out;
}

void write_json(json::Writer& w, const std::vector<GroupSummary>& groups) {
  w.begin_array();
  for (const auto& g : groups)
    w.begin_object().field("group", g.group).field("state", g.state).field("members", static_cast<std::int64_t>(g.members)).end_object();
  w.end_array();
}

int print_groups(kafka::Admin& admin, bool json) {
  const auto groups = list_groups(admin);
  if (json) {
    print_json(groups);
    return 0;
  }
  std::printf("%-60s %-20s %s\n", "group", "state", "members");
  for (const auto& g : groups) std::printf("%-60s %-20s %zu\n", g.group.c_str(), g.state.c_str(), g.members);
  return 0;
}

int reset_group(kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics, ResetTarget to, bool dry_run) {
  const auto description = admin.describe_group(group);
  if (!description.members.empty()) {
    std::fprintf(stderr, "group %s has %zu live member(s): stop its workers first, then reset, then start them again\n", group.c_str(),
                 description.members.size());
    std::string statics;
    for (const auto& m : description.members)
      if (!m.instance_id.empty()) statics += (statics.empty() ? "" : ", ") + m.instance_id;
    if (!statics.empty())
      std::fprintf(stderr,
                   "static members (%s) stay in the group for the session timeout (30 s by default) after they stop; "
                   "try again then\n",
                   statics.c_str());
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
  std::printf("group %s reset on %zu partition(s); its workers re-consume from there when started\n", group.c_str(), target.size());
  return 0;
}

}  // namespace anipipe::ops
