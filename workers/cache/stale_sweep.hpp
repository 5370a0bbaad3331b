#pragma once
// The end of a rebuild in place: what under anilibria:* no live title accounts for is removed.
// A rebuild replays the catalog over the live keys (readers never see a miss), so what it cannot
// overwrite is what should not be there at all: titles gone from the catalog while their keys
// stayed (a tombstone compacted away before cache saw it, a Redis restored from an old dump), index
// entries of versions that are no longer current, keys of a layout nobody writes any more.
//  1. bookkeeping of a title the replay did not find alive, written no later than what the replay
//     read (a running worker's newer write is left alone), gets a tombstone applied through the
//     writer: the title's keys and index entries go as if the catalog had deleted it;
//  2. every key under anilibria:* outside the bookkeeping is then checked against the bookkeeping,
//     which the writer changes in the same transaction as the keys: a title document, an alias or an
//     index entry stays only if a live title's bookkeeping names it; anything else there is not
//     cache's layout and goes. Deletions WATCH the bookkeeping they were decided on, so a worker's
//     write in between makes the batch be decided again rather than deleted.
#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_set>

#include "cache_writer.hpp"
#include "redis/client.hpp"

namespace anipipe::cache {

struct SweepResult {
  std::size_t titles_retired = 0;   // bookkeeping of titles not in the catalog, tombstoned
  std::size_t keys_deleted = 0;     // documents, aliases and foreign keys removed
  std::size_t entries_removed = 0;  // stale members of the updated ZSET and the genre/status sets
};

/// live: ids whose last record the replay read is a document; read_to: per titles partition, the
/// offset the replay read up to (exclusive).
SweepResult sweep_stale(redis::Client& redis, CacheWriter& writer, const std::unordered_set<std::int64_t>& live,
                        const std::map<std::int32_t, std::int64_t>& read_to);

}  // namespace anipipe::cache
