#pragma once
// anipipe-edge's run, given its options: the catalog and the live feeds followed on threads of
// their own, the HTTP/WebSocket server in front, until stopped.
#include "edge_options.hpp"
#include "runtime/worker_process.hpp"

namespace anipipe::edge {

int run_edge(const EdgeOptions& o, runtime::WorkerContext ctx);

}  // namespace anipipe::edge
