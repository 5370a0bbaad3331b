#pragma once
// notify's own flags beyond the shared worker ones: the webhook (where, how it is authenticated,
// in which format) and title updates. main wires them; --help prints them in this order.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "notification_delivery.hpp"
#include "notifier.hpp"
#include "redis/client.hpp"
#include "webhook_sender.hpp"

namespace anipipe::notify {

/// The webhook's HTTP client as notify uses it, before flags.
WebhookSettings default_webhook_settings();
/// --webhook-url, --webhook-secret, --webhook-token, --webhook-jwt-*, --webhook-format,
/// --webhook-concurrency, --webhook-max-attempts.
void add_webhook_options(CLI::App& app, WebhookSettings& webhook, NotifierSettings& notify);
/// What is wrong with the webhook's flags together (for exit 2), or nullopt.
std::optional<std::string> webhook_options_problem(const WebhookSettings& webhook);

struct TitleUpdateOptions {
  bool enabled = true;
};
/// --title-updates, --titles-topic, --title-redis-channel.
void add_title_update_options(CLI::App& app, TitleUpdateOptions& titles, NotifierSettings& notify);

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";
  std::int64_t timeout_ms = 5'000;
};
/// --redis-url, --redis-timeout-ms, --redis-channel.
void add_redis_options(CLI::App& app, RedisOptions& redis, NotifierSettings& notify);
/// A client for --redis-url (it connects on first use), or null when the URL is empty.
std::unique_ptr<redis::Client> redis_client(const RedisOptions& redis);

/// --notification-redis-channel, --notification-events-topic, --notification-dedup-ttl-s,
/// --notification-history-max, --notification-history-ttl-s.
void add_notification_options(CLI::App& app, ServiceSettings& services, NotifierSettings& notify);

}  // namespace anipipe::notify
