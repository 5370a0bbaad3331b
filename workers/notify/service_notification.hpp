#pragma once
// One notification_events record (seed 004: a notification any service of the site asks for), as
// much of it as notify delivers, and the shapes it is delivered in: the anilibria.notifications
// record the edge pushes to the user's WebSocket (also what the user's history keeps), and the
// payload of the webhook call and the Redis message.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace anipipe::notify {

/// Where a notification is delivered (notification_events' `channels`), as bits.
enum ServiceChannel : std::uint8_t { kChannelWebsocket = 1, kChannelWebhook = 2, kChannelRedis = 4 };
inline constexpr std::uint8_t kEveryServiceChannel = kChannelWebsocket | kChannelWebhook | kChannelRedis;

struct ServiceNotification {
  std::string id;  // redis::notifications::notification_id(idempotency_key)
  std::string user_id, type, title, idempotency_key, created_at;
  std::optional<std::string> body;
  std::optional<std::string> source;     // who published it (requested_by)
  std::optional<std::string> data_json;  // the data object, minified
  std::int64_t created_at_ms = 0;        // the history's order
  std::uint8_t channels = kEveryServiceChannel;

  /// From a value that passed notification_events' schema; throws std::invalid_argument if a
  /// field notify needs is missing or unreadable anyway.
  static ServiceNotification parse(std::string_view json, simdjson::dom::parser& parser);
};

/// The anilibria.notifications value (its schema's service kind): type, id, idempotency_key,
/// user_id, title, body, data, source, created_at.
std::string notification_record(const ServiceNotification& n);
/// The webhook body and the Redis message: {"event":"notification", then the record's fields}.
std::string notification_payload(const ServiceNotification& n);

}  // namespace anipipe::notify
