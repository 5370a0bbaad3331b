// anipipe-ingest: the AniLibria upstream into anilibria.upstream.events.
//   sources (several at once): --replay FILE (NDJSON recording), --v1-base-url (poll the live v1 API,
//   catching up to the high-water mark after a start or an outage; a reconciliation sweep over the
//   whole catalog every --reconcile-interval), --v3-url (a v3 WebSocket)
//   -> normalize (every v1/v3 form) -> drop what was announced already -> produce, keyed by title id
//   -> what cannot be normalized: anilibria.dlq with the raw text and the reason.
#include "ingest_options.hpp"
#include "ingest_worker.hpp"
#include "runtime/worker_process.hpp"

int main(int argc, char** argv) {
  const auto options = anipipe::ingest::parse_options(argc, argv);
  return anipipe::runtime::run_process(
      "ingest", options.common, [&](anipipe::runtime::WorkerContext ctx) { return anipipe::ingest::run_ingest(options, std::move(ctx)); });
}
