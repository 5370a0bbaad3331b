// anipipe-sync: anilibria.upstream.events + anilibria.sync_requests -> anilibria.titles (compacted
// catalog), anilibria.new_episode, anilibria.sync_results; exactly once (one transaction per batch).
#include <unistd.h>

#include "config/options.hpp"
#include "runtime/transactional_loop.hpp"
#include "runtime/worker_process.hpp"
#include "sync_handler.hpp"

int main(int argc, char** argv) {
  CLI::App app{"anipipe-sync: upstream events and sync requests into the compacted title catalog, exactly once"};
  anipipe::runtime::TransactionalSettings settings;
  settings.loop.worker = "sync";
  settings.loop.options.kafka.client_id = "anipipe-sync";
  anipipe::sync::SyncTopics topics;
  char host[256] = "local";
  gethostname(host, sizeof host - 1);
  std::string instance = host;
  anipipe::config::add_worker_options(app, settings.loop.options, "anipipe-sync");
  app.add_option("--instance-id", instance, "Stable per instance (transactional id suffix): a restart with the same id fences its predecessor")
      ->envname("ANIPIPE_SYNC_INSTANCE_ID")->capture_default_str();
  app.add_option("--batch-max", settings.batch_max, "Records per transaction")->envname("ANIPIPE_SYNC_BATCH_MAX")->capture_default_str();
  app.add_option("--events-topic", topics.events)->envname("ANIPIPE_SYNC_EVENTS_TOPIC")->capture_default_str();
  app.add_option("--requests-topic", topics.requests)->envname("ANIPIPE_SYNC_REQUESTS_TOPIC")->capture_default_str();
  app.add_option("--titles-topic", topics.titles)->envname("ANIPIPE_SYNC_TITLES_TOPIC")->capture_default_str();
  app.add_option("--new-episode-topic", topics.new_episode)->envname("ANIPIPE_SYNC_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--results-topic", topics.results)->envname("ANIPIPE_SYNC_RESULTS_TOPIC")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);

  settings.transactional_id = "anipipe-sync-" + settings.loop.options.group + "-" + instance;
  // Static membership: a restarted instance takes its partitions back at once, without a rebalance.
  settings.loop.group_instance_id = "sync-" + instance;
  settings.loop.topics = {topics.events, topics.requests};
  settings.loop.schema_names = {{topics.events, "anilibria.upstream.events"}, {topics.requests, "anilibria.sync_requests"},
                                {topics.titles, "anilibria.titles"}, {topics.new_episode, "anilibria.new_episode"},
                                {topics.results, "anilibria.sync_results"}};
  const auto options = settings.loop.options;
  return anipipe::runtime::run_process("sync", options, [&](anipipe::runtime::WorkerContext ctx) {
    anipipe::sync::SyncHandler handler(options.kafka, topics);
    anipipe::runtime::TransactionalLoop loop(std::move(settings), handler, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}
