// anipipe-sync: anilibria.upstream.events + anilibria.sync_requests -> anilibria.titles (compacted
// catalog), anilibria.new_episode, anilibria.sync_results; exactly once (one transaction per batch).
#include "config/options.hpp"
#include "runtime/transactional_loop.hpp"
#include "runtime/worker_process.hpp"
#include "sync_handler.hpp"
#include "title_fetcher.hpp"
#include "topic_names.hpp"

namespace names = anipipe::topic_names;

int main(int argc, char** argv) {
  CLI::App app{"anipipe-sync: upstream events and sync requests into the compacted title catalog, exactly once"};
  anipipe::runtime::TransactionalSettings settings;
  anipipe::runtime::add_worker_settings(app, settings.loop, "sync");
  anipipe::sync::SyncOptions sync;
  auto& topics = sync.topics;
  std::string upstream_url;
  std::size_t fetch_concurrency = 16;
  // The loop retries (pausing only the partition concerned), so a fetch itself fails fast.
  anipipe::http::ClientOptions http;
  http.max_retries = 0;
  http.request_timeout = std::chrono::milliseconds(5'000);
  http.connect_timeout = std::chrono::milliseconds(2'000);
  app.add_option("--batch-max", settings.batch_max, "Records per transaction")->envname("ANIPIPE_SYNC_BATCH_MAX")->capture_default_str();
  app.add_option("--upstream-url", upstream_url, "AniLiberty v1 API root for full titles, e.g. https://anilibria.top/api/v1")
      ->envname("ANIPIPE_SYNC_UPSTREAM_URL")
      ->required();
  app.add_option("--fetch-concurrency", fetch_concurrency, "Upstream fetches in flight at once (one keep-alive connection each)")
      ->envname("ANIPIPE_SYNC_FETCH_CONCURRENCY")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option_function<std::int64_t>(
         "--fresh-for-ms", [&](std::int64_t ms) { sync.fresh_for = std::chrono::milliseconds(ms); },
         "A request (not forced) for a title fetched this recently is answered from the catalog")
      ->envname("ANIPIPE_SYNC_FRESH_FOR_MS")
      ->default_str(std::to_string(sync.fresh_for.count()))
      ->check(CLI::Range(0, 86'400'000));
  app.add_option_function<std::int64_t>(
         "--request-wait-ms", [&](std::int64_t ms) { sync.request_wait = std::chrono::milliseconds(ms); },
         "How long a request waits for an unavailable upstream before it is answered upstream_unavailable")
      ->envname("ANIPIPE_SYNC_REQUEST_WAIT_MS")
      ->default_str(std::to_string(sync.request_wait.count()))
      ->check(CLI::Range(0, 86'400'000));
  auto& window = settings.priority_window;
  app.add_option(
         "--priority-window", window.capacity,
         "Requests read ahead per partition and answered by priority (high, normal, low) instead of in offset order; 0: in offset order")
      ->envname("ANIPIPE_SYNC_PRIORITY_WINDOW")
      ->capture_default_str();
  app.add_option_function<std::int64_t>(
         "--priority-aging-ms", [&](std::int64_t ms) { window.aging = std::chrono::milliseconds(ms); },
         "A waiting request rises one priority per this long waited (low is never starved); 0: no aging")
      ->envname("ANIPIPE_SYNC_PRIORITY_AGING_MS")
      ->default_str(std::to_string(window.aging.count()))
      ->check(CLI::Range(0, 86'400'000));
  anipipe::config::add_http_options(app, http);
  app.add_option("--events-topic", topics.events)->envname("ANIPIPE_SYNC_EVENTS_TOPIC")->capture_default_str();
  app.add_option("--requests-topic", topics.requests)->envname("ANIPIPE_SYNC_REQUESTS_TOPIC")->capture_default_str();
  app.add_option("--titles-topic", topics.titles)->envname("ANIPIPE_SYNC_TITLES_TOPIC")->capture_default_str();
  app.add_option("--new-episode-topic", topics.new_episode)->envname("ANIPIPE_SYNC_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--results-topic", topics.results)->envname("ANIPIPE_SYNC_RESULTS_TOPIC")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);

  settings.loop.topics = {topics.events, topics.requests};
  settings.loop.freshness_stage = "catalog";
  // Requests are what a user waits for: they overtake a backlog of bulk upstream events.
  settings.priority_topics = {topics.requests};
  settings.loop.schema_names = {{topics.events, names::kUpstreamEvents},
                                {topics.requests, names::kSyncRequests},
                                {topics.titles, names::kTitles},
                                {topics.new_episode, names::kNewEpisode},
                                {topics.results, names::kSyncResults}};
  const auto options = settings.loop.options;
  return anipipe::runtime::run_process("sync", options, [&](anipipe::runtime::WorkerContext ctx) {
    // The instance id (given, or a leased slot) is stable across restarts: a restarted instance
    // fences its predecessor's open transaction, and as a static member takes its partitions back
    // at once, without a rebalance.
    auto run_settings = settings;  // a copy: the body runs again after a fatal error (runtime/worker_process.hpp)
    run_settings.transactional_id = "anipipe-sync-" + settings.loop.options.group + "-" + ctx.instance_id;
    run_settings.loop.group_instance_id = ctx.group_instance_id;
    anipipe::sync::TitleFetcher fetcher(upstream_url, http, fetch_concurrency, &ctx.metrics.registry());
    anipipe::sync::SyncHandler handler(options.kafka, sync, fetcher, ctx.stop);
    anipipe::runtime::TransactionalLoop loop(std::move(run_settings), handler, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}
