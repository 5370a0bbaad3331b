#pragma once
// Consumer groups for replays (DESIGN.md, "Scaling and replay"): how far behind a group is, and
// moving it back to the start, to the end or to a point in time so it re-consumes from there
// (e.g. rebuilding Redis from anilibria.titles).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
/// Prints committed offset, end and lag per partition and in total, in records and in seconds.
/// Lag counts what a read_committed reader would read (transaction markers are no records: a
/// caught-up group reads 0 on a transactional topic), exactly up to 10,000 per partition and
/// "≥" beyond; seconds are the age of the oldest unread record. Returns 0.
int print_group_lag(const kafka::Settings& kafka, kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics,
                    bool json = false);
/// Moves the group's offsets on the topics. Refuses (exit 1) while the group has live members.
int reset_group(kafka::Admin& admin, const std::string& group, const std::vector<std::string>& topics, ResetTarget to,
                bool dry_run);

}  // namespace anipipe::ops
