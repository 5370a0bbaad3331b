#include "notify_options.hpp"

#include <map>

namespace anipipe::notify {

WebhookSettings default_webhook_settings() {
  WebhookSettings webhook;
  // The batch is the retry: each call is one attempt, so --webhook-max-attempts counts calls, and a
  // sink answering 5xx is told from one that is away (an attempt refused by the open breaker after
  // an in-call retry would hide the 500 that opened it).
  webhook.client.max_retries = 0;
  webhook.client.request_timeout = std::chrono::milliseconds(10'000);
  webhook.client.connect_timeout = std::chrono::milliseconds(2'000);
  webhook.client.breaker_open_for = std::chrono::milliseconds(5'000);
  return webhook;
}

void add_webhook_options(CLI::App& app, WebhookSettings& webhook, NotifierSettings& notify) {
  app.add_option(
         "--webhook-url", webhook.url,
         "Receiver of one POST per new episode and title change (empty: no webhook), e.g. http://node:3000/internal/anilibria/notify")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_URL");
  app.add_option("--webhook-secret", webhook.secret, "HMAC-SHA256 key for X-Anipipe-Signature (required with --webhook-url)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_SECRET");
  app.add_option("--webhook-token", webhook.auth.token,
                 "Static service token sent as Authorization: Bearer (seed 001's internal_service_token)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_TOKEN");
  app.add_option("--webhook-jwt-secret", webhook.auth.jwt_secret,
                 "HS256 key: sign a short-lived JWT per call and send it as Authorization: Bearer (instead of --webhook-token)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_JWT_SECRET");
  app.add_option("--webhook-jwt-issuer", webhook.auth.jwt_issuer, "The JWT's iss, sub and service claims")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_JWT_ISSUER")
      ->capture_default_str();
  app.add_option_function<int>(
         "--webhook-jwt-ttl-s", [&webhook](int s) { webhook.auth.jwt_ttl = std::chrono::seconds(s); },
         "Seconds from the JWT's iat to its exp")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_JWT_TTL_S")
      ->default_str(std::to_string(webhook.auth.jwt_ttl.count()))
      ->check(CLI::Range(5, 3600));
  static const std::map<std::string, WebhookFormat> formats{{"anipipe", WebhookFormat::anipipe}, {"seed001", WebhookFormat::seed001}};
  app.add_option_function<std::string>(
         "--webhook-format", [&notify](const std::string& f) { notify.webhook_format = formats.at(f); },
         "Webhook body: anipipe (the seed's keys plus event_id, details, audience) or seed001 (the seed's keys only)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_FORMAT")
      ->default_str("anipipe")
      ->check(CLI::IsMember({"anipipe", "seed001"}));
  app.add_option("--webhook-concurrency", webhook.concurrency, "Webhook calls in flight at once (one keep-alive connection each)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_CONCURRENCY")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--webhook-max-attempts", notify.webhook_max_attempts,
                 "Batch attempts a call answered with 5xx gets before it is dead-lettered (a sink that does not answer is waited for)")
      ->envname("ANIPIPE_NOTIFY_WEBHOOK_MAX_ATTEMPTS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
}

std::optional<std::string> webhook_options_problem(const WebhookSettings& webhook) {
  if (!webhook.auth.token.empty() && !webhook.auth.jwt_secret.empty())
    return "--webhook-token and --webhook-jwt-secret exclude each other: the call carries one bearer token";
  if (webhook.url.empty()) return std::nullopt;
  if (webhook.secret.empty()) return "--webhook-secret (ANIPIPE_NOTIFY_WEBHOOK_SECRET) is required with --webhook-url";
  return std::nullopt;
}

void add_title_update_options(CLI::App& app, TitleUpdateOptions& titles, NotifierSettings& notify) {
  app.add_option("--title-updates", titles.enabled,
                 "Follow --titles-topic and send title_updated for each changed title document (webhook, --title-redis-channel)")
      ->envname("ANIPIPE_NOTIFY_TITLE_UPDATES")
      ->capture_default_str();
  app.add_option("--titles-topic", notify.titles_topic)->envname("ANIPIPE_NOTIFY_TITLES_TOPIC")->capture_default_str();
  app.add_option("--title-redis-channel", notify.title_redis_channel, "Redis channel of title_updated (empty: not published)")
      ->envname("ANIPIPE_NOTIFY_TITLE_REDIS_CHANNEL")
      ->capture_default_str();
}

void add_redis_options(CLI::App& app, RedisOptions& redis, NotifierSettings& notify) {
  app.add_option("--redis-url", redis.url,
                 "redis://[:password@]host[:port][/db] for PUBLISH and the notification history (empty: no Redis, no notification_events)")
      ->envname("ANIPIPE_REDIS_URL")
      ->capture_default_str();
  app.add_option("--redis-timeout-ms", redis.timeout_ms, "Redis connect and command timeout")
      ->envname("ANIPIPE_REDIS_TIMEOUT_MS")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--redis-channel", notify.redis_channel)->envname("ANIPIPE_NOTIFY_REDIS_CHANNEL")->capture_default_str();
}

std::unique_ptr<redis::Client> redis_client(const RedisOptions& redis) {
  if (redis.url.empty()) return nullptr;
  auto o = redis::Options::parse(redis.url);
  o.connect_timeout = o.command_timeout = std::chrono::milliseconds(redis.timeout_ms);
  return std::make_unique<redis::Client>(o);
}

void add_notification_options(CLI::App& app, ServiceSettings& services, NotifierSettings& notify) {
  auto& history = services.history;
  app.add_option("--notification-redis-channel", services.redis_channel,
                 "Redis channel of --notification-events-topic's notifications (empty: not published)")
      ->envname("ANIPIPE_NOTIFY_NOTIFICATION_REDIS_CHANNEL")
      ->capture_default_str();
  app.add_option("--notification-events-topic", notify.events_topic,
                 "Seed 004's notifications from any service, delivered once per idempotency key (empty, or no --redis-url: not consumed)")
      ->envname("ANIPIPE_NOTIFY_NOTIFICATION_EVENTS_TOPIC")
      ->capture_default_str();
  // Seconds on the command line, a duration in the settings.
  const auto add_seconds = [&app](const char* name, const char* env, std::chrono::seconds& value, const char* what) {
    app.add_option_function<std::int64_t>(
           name, [&value](std::int64_t s) { value = std::chrono::seconds(s); }, what)
        ->envname(env)
        ->default_str(std::to_string(value.count()))
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{31'536'000}));
  };
  add_seconds("--notification-dedup-ttl-s", "ANIPIPE_NOTIFY_NOTIFICATION_DEDUP_TTL_S", history.dedup_ttl,
              "How long an idempotency key is remembered: the same key again within it is not delivered");
  app.add_option("--notification-history-max", history.max_per_user, "Notifications kept per user in Redis, the newest")
      ->envname("ANIPIPE_NOTIFY_NOTIFICATION_HISTORY_MAX")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  add_seconds("--notification-history-ttl-s", "ANIPIPE_NOTIFY_NOTIFICATION_HISTORY_TTL_S", history.history_ttl,
              "A user's history expires this long after their last notification");
}

}  // namespace anipipe::notify
