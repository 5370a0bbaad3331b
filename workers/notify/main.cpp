// anipipe-notify: anilibria.new_episode -> anilibria.notifications (one per durable subscriber),
// a signed webhook call per episode, Redis PUBLISH anilibria:new_episode; anilibria.titles -> a
// title_updated webhook call and PUBLISH anilibria:title_updated per changed title; notification_events
// -> the user's history in Redis, anilibria.notifications, the webhook, PUBLISH anilibria:notification,
// once per idempotency key; at least once.
// Subscriptions: anilibria.subscriptions read whole and followed (every instance holds all).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "config/options.hpp"
#include "notifier.hpp"
#include "notify_options.hpp"
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "runtime/worker_process.hpp"
#include "topic_names.hpp"

namespace names = anipipe::topic_names;

int main(int argc, char** argv) {
  CLI::App app{
      "anipipe-notify: new-episode fan-out to durable subscribers (topic), the Node.js webhook and Redis pub/sub; title changes to the webhook and Redis"};
  anipipe::runtime::BatchSettings settings;
  anipipe::runtime::add_worker_settings(app, settings.loop, "notify");
  settings.batch_max = 200;
  anipipe::notify::NotifierSettings notify;
  std::string new_episode_topic = names::kNewEpisode, subscriptions_topic = names::kSubscriptions;
  anipipe::notify::RedisOptions redis_options;
  anipipe::notify::ServiceSettings services;
  std::size_t queue_max = 20'000;
  auto webhook = anipipe::notify::default_webhook_settings();
  // One option a line or two, as --help lists them (main stays within 80 lines).
  // clang-format off
  app.add_option("--batch-max", settings.batch_max, "new_episode records per batch")->envname("ANIPIPE_NOTIFY_BATCH_MAX")
      ->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("--round-size", notify.round_size, "Notifications per episode per fan-out round (a huge audience takes turns with the others)")
      ->envname("ANIPIPE_NOTIFY_ROUND_SIZE")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--queue-max", queue_max, "Notifications queued in the producer at most (bounds memory during a fan-out)")
      ->envname("ANIPIPE_NOTIFY_QUEUE_MAX")->capture_default_str()->check(CLI::Range(100, 10'000'000));
  anipipe::notify::add_webhook_options(app, webhook, notify);
  anipipe::config::add_http_options(app, webhook.client);
  anipipe::notify::add_redis_options(app, redis_options, notify);
  app.add_option("--new-episode-topic", new_episode_topic)->envname("ANIPIPE_NOTIFY_NEW_EPISODE_TOPIC")->capture_default_str();
  app.add_option("--subscriptions-topic", subscriptions_topic)->envname("ANIPIPE_NOTIFY_SUBSCRIPTIONS_TOPIC")->capture_default_str();
  app.add_option("--notifications-topic", notify.notifications_topic)->envname("ANIPIPE_NOTIFY_NOTIFICATIONS_TOPIC")->capture_default_str();
  // clang-format on
  anipipe::notify::TitleUpdateOptions title_updates;
  anipipe::notify::add_title_update_options(app, title_updates, notify);
  anipipe::notify::add_notification_options(app, services, notify);
  anipipe::config::parse_or_exit(app, argc, argv);
  if (auto problem = anipipe::notify::webhook_options_problem(webhook)) {
    std::fprintf(stderr, "%s\n", problem->c_str());
    return 2;
  }

  settings.loop.topics = {new_episode_topic};
  // Title changes are followed only where they can go: the webhook, or a Redis channel.
  const bool follow_titles = title_updates.enabled &&
                             (!webhook.url.empty() || (!redis_options.url.empty() && !notify.title_redis_channel.empty()));
  if (follow_titles) {
    settings.loop.topics.push_back(notify.titles_topic);
    settings.loop.tombstone_topics = {notify.titles_topic};
  }
  const bool follow_events = !redis_options.url.empty() && !notify.events_topic.empty();  // their keys and histories are in Redis
  if (follow_events) settings.loop.topics.push_back(notify.events_topic);
  services.notifications_topic = notify.notifications_topic;
  // A batch is done once its webhook calls were acknowledged (and its fan-out produced).
  settings.loop.freshness_stage = webhook.url.empty() ? "notified" : "webhook";
  settings.loop.schema_names = {{new_episode_topic, names::kNewEpisode},
                                {notify.notifications_topic, names::kNotifications},
                                {notify.titles_topic, names::kTitles},
                                {notify.events_topic, names::kNotificationEvents}};
  const auto options = settings.loop.options;
  return anipipe::runtime::run_process("notify", options, [&](anipipe::runtime::WorkerContext ctx) {
    auto* registry = &ctx.metrics.registry();
    anipipe::notify::Subscriptions subscriptions(options.kafka, subscriptions_topic, registry);
    subscriptions.catch_up(std::chrono::minutes(10));  // the whole table before the first episode
    spdlog::info("{} subscriptions to {} titles loaded", subscriptions.table().subscriptions(), subscriptions.table().titles());

    anipipe::kafka::Producer producer(options.kafka,
                                      {.transactional_id = {}, .defaults = {{"queue.buffering.max.messages", std::to_string(queue_max)}}});
    std::unique_ptr<anipipe::notify::WebhookSender> webhooks;
    if (!webhook.url.empty()) webhooks = std::make_unique<anipipe::notify::WebhookSender>(webhook, registry);
    auto redis = anipipe::notify::redis_client(redis_options);
    std::unique_ptr<anipipe::notify::TitleChanges> titles;
    if (follow_titles)
      titles = std::make_unique<anipipe::notify::TitleChanges>(anipipe::notify::catalog_history(options.kafka, notify.titles_topic));
    const anipipe::runtime::RecordContract contract(settings.loop, ctx.schemas);
    auto service_notifications = follow_events ? std::make_unique<anipipe::notify::ServiceNotifications>(services, *redis, producer,
                                                                                                         contract, registry)
                                               : nullptr;
    anipipe::notify::Notifier notifier(notify, subscriptions, producer, webhooks.get(), redis.get(), titles.get(),
                                       service_notifications.get(), contract, registry, ctx.stop);
    auto run_settings = settings;  // a copy: the body runs again after a fence (runtime/worker_process.hpp)
    run_settings.loop.group_instance_id = ctx.group_instance_id;
    anipipe::runtime::BatchLoop loop(std::move(run_settings), notifier, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}
