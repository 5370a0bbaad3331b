#pragma once
// A stream position: where a WebSocket push sits in the Kafka log it came from, handed to the
// client so it can come back with `since`. Written "e<epoch>-p<partition>-o<offset>" (clients
// treat it as opaque; it is URL-safe so it can ride in a query string). The epoch names the log
// (the cluster's id and the topic): a position of another cluster or topic never matches, so a
// recreated cluster is answered with a gap instead of replaying offsets that mean other records.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::edge {

struct StreamPosition {
  std::uint32_t epoch = 0;
  std::int32_t partition = 0;
  std::int64_t offset = -1;  // the last record the holder has; -1: none of the partition yet
  bool operator==(const StreamPosition&) const = default;
};

std::string to_string(const StreamPosition& p);
/// nullopt for anything that is not a position this edge writes.
std::optional<StreamPosition> parse_position(std::string_view text);
/// The epoch of a topic on a cluster (FNV-1a of both: stable across restarts and edge instances).
std::uint32_t epoch_of(std::string_view cluster_id, std::string_view topic);

}  // namespace anipipe::edge
