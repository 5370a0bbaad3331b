#pragma once
// Consumer groups for replays (docs/design.md, "Scaling and replay"): how far behind a group is, and
// moving it back to the start, to the end or to a point in time so it re-consumes from there
// (e.g. rebuilding Redis from anilibria.titles).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json_writer.hpp"
#include "kafka/admin.hpp"
#include "kafka/settings.hpp"

namespace anipipe::ops {

struct ResetTarget {
  enum class Kind { earliest, latest, time } kind = Kind::earliest;
  std::int64_t unix_ms = 0;
};
/// "earliest", "latest" or an RFC 3339 time; nullopt otherwise.
std::optional<ResetTarget> parse_reset_target(std::string_view text);

/// Prints the group's state and members: instance id (static members), client, host and the
/// partitions each holds; returns 0.
int print_group_members(kafka::Admin& admin, const std::string& group);
/// A group's lag on each partition of its topics. Lag counts what a read_committed reader would
/// read (transaction markers are no records: a caught-up group reads 0 on a transactional topic),
/// exactly up to 10,000 per partition and a lower bound beyond; seconds are the age of the oldest
/// unread record (its timestamp), 0 when there is none.
struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t committed = -1;  // -1: nothing committed (the group would start at the beginning)
  std::int64_t end = 0;
  std::int64_t lag = 0;
  bool capped = false;
  double seconds = 0;
  std::string owner;  // the member holding it: instance id (static) or client id; "" if none
};
struct GroupLag {
  kafka::GroupDescription description;
  std::vector<PartitionLag> partitions;
  std::int64_t total = 0;
  bool capped = false;
  double max_seconds = 0;
};
/// topics empty: every topic the group has committed offsets on or its members are assigned.
GroupLag group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, std::vector<std::string> topics);
void write_json(json::Writer& w, const GroupLag& lag);
/// The table (or the JSON) of group_lag. Returns 0.
int print_group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics,
                    bool json = false);

/// Every group with its state and member count (one describe per group).
struct GroupSummary {
  std::string group, state;
  std::size_t members = 0;
};
std::vector<GroupSummary> list_groups(kafka::Admin& admin);
void write_json(json::Writer& w, const std::vector<GroupSummary>& groups);
int print_groups(kafka::Admin& admin, bool json);
void write_json(json::Writer& w, const kafka::GroupDescription& d);

/// Moves the group's offsets on the topics. Refuses (exit 1) while the group has live members.
int reset_group(kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics, ResetTarget to, bool dry_run);

}  // namespace anipipe::ops
