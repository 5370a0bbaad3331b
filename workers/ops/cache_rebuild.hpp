#pragma once
// `anipipe-ops cache rebuild`: Redis rebuilt from the compacted anilibria.titles.
//  1. deletes the anilibria:* namespace (SCAN + UNLINK) except cache's own bookkeeping under
//     anilibria:cache:* (partition markers, so running workers do not replay on top; per-title
//     versions, the guard's memory);
//  2. notes the topic's end offsets *after* the wipe, so every record older than them is this
//     rebuild's to write, and anything newer is the running workers';
//  3. replays the topic from its start through cache's own writer, whose per-title version guard
//     keeps a newer document a worker wrote from being overwritten by an older one.
// So a rebuild may run while cache workers run and ends with neither stale nor missing titles.
#include <cstddef>
#include <string>

#include "kafka/admin.hpp"
#include "kafka/settings.hpp"

namespace anipipe::ops {

struct CacheRebuildOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string titles_topic = "anilibria.titles";
  std::size_t batch = 1000;
  std::size_t connections = 4;  // Redis connections applying batches at once
  bool progress_bar = false;  // redraw a bar (stderr is a terminal) instead of plain lines
};

/// Returns the process exit code (0: rebuilt; 1: some records could not be applied; 2: failed).
int rebuild_cache(const kafka::Settings& kafka, kafka::Admin& admin, const CacheRebuildOptions& options);

}  // namespace anipipe::ops
