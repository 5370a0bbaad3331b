#pragma once
// `anipipe-ops cache rebuild`: Redis rebuilt from the compacted anilibria.titles while it serves.
// Nothing is deleted first, so readers (the Node.js back end, the edge) keep reading the seeds' key
// names and never meet a miss:
//  1. the topic is replayed from its start over the live keys through cache's own writer, whose
//     per-title version guard lets no replayed record overwrite a newer one (a running worker's
//     update, or the same title's later record): every title ends at the catalog's version or newer,
//     and no reader sees a value go back in time;
//  2. what the replay cannot overwrite is swept (cache/stale_sweep): keys of titles the catalog no
//     longer has, index entries of superseded versions, keys that are not cache's layout.
// A shadow keyspace switched by RENAME was the alternative; it needs every live update applied twice
// (or lost), and the old values are served until the switch anyway. The guard makes the switch per
// title, atomic, with no second copy of the cache in memory.
// Progress counts offsets (a transactional topic's commit markers occupy offsets no reader gets),
// so a finished rebuild reads 100 %, and the summary says how many offsets held no record.
#include <cstddef>
#include <string>

#include "kafka/admin.hpp"
#include "kafka/settings.hpp"
#include "topic_names.hpp"

namespace anipipe::ops {

struct CacheRebuildOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string titles_topic = topic_names::kTitles;
  std::size_t batch = 1000;
  std::size_t connections = 4;  // Redis connections applying batches at once
  bool progress_bar = false;    // redraw a bar (stderr is a terminal) instead of plain lines
};

/// Returns the process exit code (0: rebuilt; 1: some records could not be applied; 2: failed).
int rebuild_cache(const kafka::Settings& kafka, kafka::Admin& admin, const CacheRebuildOptions& options);

}  // namespace anipipe::ops
