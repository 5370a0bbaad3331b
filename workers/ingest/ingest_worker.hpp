#pragma once
// anipipe-ingest's run, given its options: recall what was announced, then the sources (a
// recording, the v3 WebSocket and the reconciliation sweep on threads of their own, the v1 polls
// on this one) into one publisher, until stopped; a flush of what is in flight at the end.
#include "ingest_options.hpp"
#include "runtime/worker_process.hpp"

namespace anipipe::ingest {

int run_ingest(const IngestOptions& o, runtime::WorkerContext ctx);

}  // namespace anipipe::ingest
