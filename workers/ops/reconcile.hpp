#pragma once
// anipipe-ops reconcile: ingest's reconciliation sweep, now (workers/ingest/reconcile_sweep.hpp) -
// over the whole upstream catalog and the catalog's own titles, or only over the titles named -
// published to anilibria.upstream.events for sync to repair what drifted.
#include <cstdint>
#include <string>
#include <vector>

#include "kafka/settings.hpp"
#include "reconcile_sweep.hpp"
#include "topic_names.hpp"

namespace anipipe::ops {

struct ReconcileOptions {
  std::string upstream_url;  // the v1 API root; not needed with titles
  std::vector<std::int64_t> titles;
  std::string events_topic = topic_names::kUpstreamEvents;
  std::string dlq_topic = topic_names::kDlq;
  std::string schema_dirs;
  ingest::SweepOptions sweep;
};

/// Prints the sweep's JSON line; 0 if it completed, 1 if cut short, 2 on an error before it began.
int reconcile(const kafka::Settings& kafka, ReconcileOptions options);

}  // namespace anipipe::ops
