// anipipe-notify: anilibria.new_episode -> anilibria.notifications (one per durable subscriber),
// a signed webhook call per episode, Redis PUBLISH anilibria:new_episode; at least once.
// Subscriptions: anilibria.subscriptions read whole and followed (every instance holds all).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "config/options.hpp"
#include "notifier.hpp"
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "runtime/worker_process.hpp"
#include "topic_names.hpp"

namespace names = anipipe::topic_names;

int main(int argc, char** argv) {
  CLI::App app{"anipipe-notify: new-episode fan-out to durable subscribers (topic), the Node.js webhook and Redis pub/sub"};
  anipipe::runtime::BatchSettings settings;
  settings.loop.worker = "notify";
  settings.loop.options.kafka.client_id = "anipipe-notify";
  settings.batch_max = 200;
  anipipe::notify::NotifierSettings notify;
  std::string new_episode_topic = names::kNewEpisode, subscriptions_topic = names::kSubscriptions;
  std::string redis_url = "redis://127.0.0.1:6379";
  std::int64_t redis_timeout_ms = 5'000;
  std::size_t queue_max = 20'000;
  anipipe::notify::WebhookSettings webhook;
  // The batch is the retry: each call is one attempt, so --webhook-max-attempts counts calls, and a
  // sink answering 5xx is told from one that is away (an attempt refused by the open breaker after
  // an in-call retry would hide the 500 that opened it).
  webhook.client.max_retries = 0;
  webhook.client.request_timeout = std::chrono::milliseconds(10'000);
  webhook.client.connect_timeout = std::chrono::milliseconds(2'000);
  webhook.client.breaker_open_for = std::chrono::milliseconds(5'000);
  anipipe::config::add_worker_options(app, settings.loop.options, "anipipe-notify");
  app.add_option("--batch-max", settings.batch_max, "new_episode records per batch")->envname("ANIPIPE_NOTIFY_BATCH_MAX")
      ->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("--round-size", notify.round_size, "Notifications per episode per fan-out round (a huge audience takes turns with the others)")
      ->envname("ANIPIPE_NOTIFY_ROUND_SIZE")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--queue-max", queue_max, "Notifications queued in the producer at most (bounds memory during a fan-out)")
      ->envname("ANIPIPE_NOTIFY_QUEUE_MAX")->capture_default_str()->check(CLI::Range(100, 10'000'000));
  app.add_option("--webhook-url", webhook.url, "Receiver of one signed POST per new episode (empty: no webhook), e.g. http://node:3000/internal/anilibria/notify")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_URL");
  app.add_option("--webhook-secret", webhook.secret, "HMAC-SHA256 key for X-Anipipe-Signature (required with --webhook-url)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_SECRET");
  app.add_option("--webhook-concurrency", webhook.concurrency, "Webhook calls in flight at once (one keep-alive connection each)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_CONCURRENCY")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--webhook-max-attempts", notify.webhook_max_attempts,
                 "Batch attempts a call answered with 5xx gets before it is dead-lettered (a sink that does not answer is waited for)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_MAX_ATTEMPTS")->capture_default_str()->check(CLI::Range(1, 1000));
  anipipe::config::add_http_options(app, webhook.client);
  app.add_option("--redis-url", redis_url, "redis://[:password@]host[:port][/db] for PUBLISH (empty: no Redis)")
      ->envname("ANIPIPE_REDIS_URL")->capture_default_str();
  app.add_option("--redis-timeout-ms", redis_timeout_ms, "Redis connect and command timeout")
      ->envname("ANIPIPE_REDIS_TIMEOUT_MS")->capture_default_str()->check(CLI::Range(1, 600'000));
  app.add_option("--redis-channel", notify.redis_channel)->envname("ANIPIPE_NOTIFY_REDIS_CHANNEL")->capture_default_str();
  app.add_option("--new-episode-topic", new_episode_topic)->envname("ANIPIPE_NOTIFY_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--subscriptions-topic", subscriptions_topic)->envname("ANIPIPE_NOTIFY_SUBSCRIPTIONS_TOPIC")->capture_default_str();
  app.add_option("--notifications-topic", notify.notifications_topic)->envname("ANIPIPE_NOTIFY_NOTIFICATIONS_TOPIC")->capture_default_str();
  anipipe::config::parse_or_exit(app, argc, argv);
  if (!webhook.url.empty() && webhook.secret.empty()) {
    std::fprintf(stderr, "--webhook-secret (ANIPIPE_NOTIFY_WEBHOOK_SECRET) is required with --webhook-url\n");
    return 2;
  }

  settings.loop.topics = {new_episode_topic};
  // A batch is done once its webhook calls were acknowledged (and its fan-out produced).
  settings.loop.freshness_stage = webhook.url.empty() ? "notified" : "webhook";
  settings.loop.schema_names = {{new_episode_topic, names::kNewEpisode}, {notify.notifications_topic, names::kNotifications}};
  const auto options = settings.loop.options;
  return anipipe::runtime::run_process("notify", options, [&](anipipe::runtime::WorkerContext ctx) {
    auto* registry = &ctx.metrics.registry();
    anipipe::notify::Subscriptions subscriptions(options.kafka, subscriptions_topic, registry);
    subscriptions.catch_up(std::chrono::minutes(10));  // the whole table before the first episode
    spdlog::info("{} subscriptions to {} titles loaded", subscriptions.table().subscriptions(), subscriptions.table().titles());

    anipipe::kafka::Producer producer(options.kafka, {.transactional_id = {},
                                                      .defaults = {{"queue.buffering.max.messages", std::to_string(queue_max)}}});
    std::unique_ptr<anipipe::notify::WebhookSender> webhooks;
    if (!webhook.url.empty()) webhooks = std::make_unique<anipipe::notify::WebhookSender>(webhook, registry);
    std::unique_ptr<anipipe::redis::Client> redis;
    if (!redis_url.empty()) {
      auto ro = anipipe::redis::Options::parse(redis_url);
      ro.connect_timeout = ro.command_timeout = std::chrono::milliseconds(redis_timeout_ms);
      redis = std::make_unique<anipipe::redis::Client>(ro);
    }
    const anipipe::runtime::RecordContract contract(settings.loop, ctx.schemas);
    anipipe::notify::Notifier notifier(notify, subscriptions, producer, webhooks.get(), redis.get(), contract, registry, ctx.stop);
    auto run_settings = settings;  // a copy: the body runs again after a fence (runtime/worker_process.hpp)
    run_settings.loop.group_instance_id = ctx.group_instance_id;
    anipipe::runtime::BatchLoop loop(std::move(run_settings), notifier, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}
