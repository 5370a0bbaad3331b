#pragma once
// The Redis layout cache maintains (workers/cache/README.md): the seeds' per-title keys plus the
// few indexes the site's Node.js back end needs for lists and lookups. Everything lives under
// anilibria:*, the only namespace `cache rebuild` clears. Users' notification histories (notify
// writes them, the edge reads them) live outside it: common/redis/notification_keys.hpp.
#include <cstdint>
#include <string>
#include <string_view>

namespace anipipe::cache::keys {

inline constexpr std::string_view kNamespace = "anilibria:";
inline constexpr std::string_view kInvalidateChannel = "anilibria:invalidate";

// The prefixes, for the functions below and for whoever walks the keys (the stale sweep).
inline constexpr std::string_view kV2TitlePrefix = "anilibria:v2:title:";
inline constexpr std::string_view kV1TitlePrefix = "anilibria:v1:title:";
inline constexpr std::string_view kAliasPrefix = "anilibria:v2:alias:";
inline constexpr std::string_view kGenrePrefix = "anilibria:v2:genre:";
inline constexpr std::string_view kStatusPrefix = "anilibria:v2:status:";
inline constexpr std::string_view kMetaPrefix = "anilibria:cache:meta:";

/// The v2 document, verbatim from anilibria.titles.
inline std::string v2_title(std::int64_t id) { return std::string(kV2TitlePrefix) + std::to_string(id); }
/// The old Node.js format of the same title (catalog::to_v1_json).
inline std::string v1_title(std::int64_t id) { return std::string(kV1TitlePrefix) + std::to_string(id); }
/// alias -> id: the site's URLs name titles by alias.
inline std::string alias(std::string_view a) { return std::string(kAliasPrefix) + std::string(a); }
/// ZSET of ids scored by updated_at (epoch seconds): "latest updates" pages with ZREVRANGE.
inline constexpr std::string_view kUpdated = "anilibria:v2:titles:updated";
/// SET of ids per genre, for genre filters (SINTER with other sets).
inline std::string genre(std::string_view g) { return std::string(kGenrePrefix) + std::string(g); }
/// SET of ids per status (ongoing, finished, announced, unknown).
inline std::string status(std::string_view s) { return std::string(kStatusPrefix) + std::string(s); }

/// Where cache keeps its own bookkeeping. No invalidation and no rebuild deletes under it: without
/// it a worker would re-read everything (the partition markers) or let an older write win (the
/// version guard).
inline constexpr std::string_view kBookkeeping = "anilibria:cache:";

/// An invalidation already applied, by its correlation id (the edge's Idempotency-Key): a retried
/// request, or a record delivered twice, is applied once. Kept a day.
inline std::string applied_invalidation(std::string_view correlation_id) {
  return "anilibria:cache:invalidation:" + std::string(correlation_id);
}

/// cache's bookkeeping per title: the version applied and what its index entries were built from.
inline std::string meta(std::int64_t id) { return std::string(kMetaPrefix) + std::to_string(id); }

/// Set once a titles partition has been applied from its beginning: if Redis loses its data
/// (restarted without persistence, flushed), the marker is gone too and cache replays the partition.
inline std::string built_marker(std::string_view topic, std::int32_t partition) {
  return "anilibria:cache:built:" + std::string(topic) + ":" + std::to_string(partition);
}

}  // namespace anipipe::cache::keys
