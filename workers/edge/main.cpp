// anipipe-edge: the thin HTTP/WebSocket front. Reads anilibria.titles whole into memory (the
// catalog), follows anilibria.new_episode and anilibria.notifications for live pushes and
// anilibria.sync_results for request-reply; produces anilibria.sync_requests,
// anilibria.subscriptions and anilibria.cache_invalidations.
#include "edge_options.hpp"
#include "edge_worker.hpp"
#include "runtime/worker_process.hpp"

int main(int argc, char** argv) {
  const auto o = anipipe::edge::parse_options(argc, argv);
  return anipipe::runtime::run_process("edge", o.options,
                                       [&](anipipe::runtime::WorkerContext ctx) { return anipipe::edge::run_edge(o, std::move(ctx)); });
}
