// anipipe-cache: anilibria.titles + anilibria.cache_invalidations -> Redis (the seeds' layout,
// workers/cache/README.md), at least once, one pipelined batch per poll.
#include "cache_writer.hpp"
#include "config/options.hpp"
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "runtime/worker_process.hpp"
#include "topic_names.hpp"

namespace names = anipipe::topic_names;

int main(int argc, char** argv) {
  CLI::App app{"anipipe-cache: the title catalog and explicit invalidations into Redis"};
  anipipe::runtime::BatchSettings settings;
  anipipe::runtime::add_worker_settings(app, settings.loop, "cache");
  anipipe::cache::CacheTopics topics;
  std::string redis_url = "redis://127.0.0.1:6379";
  std::int64_t redis_timeout_ms = 5'000;
  app.add_option("--redis-url", redis_url, "redis://[:password@]host[:port][/db]")->envname("ANIPIPE_REDIS_URL")->capture_default_str();
  app.add_option("--redis-timeout-ms", redis_timeout_ms, "Redis connect and command timeout")
      ->envname("ANIPIPE_REDIS_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--batch-max", settings.batch_max, "Records per Redis pipeline")
      ->envname("ANIPIPE_CACHE_BATCH_MAX")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--titles-topic", topics.titles)->envname("ANIPIPE_CACHE_TITLES_TOPIC")->capture_default_str();
  app.add_option("--invalidations-topic", topics.invalidations)->envname("ANIPIPE_CACHE_INVALIDATIONS_TOPIC")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);

  auto redis_options = anipipe::redis::Options::parse(redis_url);
  redis_options.connect_timeout = redis_options.command_timeout = std::chrono::milliseconds(redis_timeout_ms);
  settings.loop.topics = {topics.titles, topics.invalidations};
  settings.loop.freshness_stage = "redis";
  settings.loop.tombstone_topics = {topics.titles};
  settings.loop.schema_names = {{topics.titles, names::kTitles}, {topics.invalidations, names::kCacheInvalidations}};
  const auto options = settings.loop.options;
  return anipipe::runtime::run_process("cache", options, [&](anipipe::runtime::WorkerContext ctx) {
    anipipe::redis::Client redis(redis_options);
    anipipe::cache::CacheWriter writer(redis, topics);
    auto run_settings = settings;  // a copy: the body runs again after a fence (runtime/worker_process.hpp)
    run_settings.loop.group_instance_id = ctx.group_instance_id;
    anipipe::runtime::BatchLoop loop(std::move(run_settings), writer, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}
