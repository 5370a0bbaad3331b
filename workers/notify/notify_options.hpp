#pragma once
// notify's own flags beyond the shared worker ones: the webhook (where, how it is authenticated,
// in which format) and title updates. main wires them; --help prints them in this order.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "notifier.hpp"
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

}  // namespace anipipe::notify
