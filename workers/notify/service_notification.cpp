#include "service_notification.hpp"

#include <stdexcept>

#include "json/json_writer.hpp"
#include "record_fields.hpp"
#include "redis/notification_keys.hpp"
#include "util/clock.hpp"

namespace anipipe::notify {

namespace {

std::uint8_t channel_bits(simdjson::dom::element channels) {
  simdjson::dom::array list;
  if (channels.get(list)) throw std::invalid_argument("notification_events' channels is not an array");
  std::uint8_t bits = 0;
  for (auto c : list) {
    std::string_view name;
    if (c.get(name)) throw std::invalid_argument("notification_events' channels holds a non-string");
    if (name == "websocket") bits |= kChannelWebsocket;
    else if (name == "webhook") bits |= kChannelWebhook;
    else if (name == "redis") bits |= kChannelRedis;
    else throw std::invalid_argument("notification_events' channels holds an unknown channel " + std::string(name));
  }
  return bits;
}

std::optional<std::string> optional_string(simdjson::dom::element doc, const char* field) {
  std::string_view s;
  if (auto f = doc[field]; f.error() == simdjson::NO_SUCH_FIELD) return std::nullopt;
  else if (f.get(s)) throw std::invalid_argument(std::string("notification_events' ") + field + " is not a string");
  return std::string(s);
}

// The fields the record and the payload share, after whatever each puts first.
void append_fields(json::Writer& w, const ServiceNotification& n) {
  w.field("type", n.type).field("id", n.id).field("idempotency_key", n.idempotency_key).field("user_id", n.user_id).field("title", n.title);
  if (n.body) w.field("body", *n.body);
  if (n.data_json) w.key("data").raw(*n.data_json);
  if (n.source) w.field("source", *n.source);
  w.field("created_at", n.created_at);
}

}  // namespace

ServiceNotification ServiceNotification::parse(std::string_view json, simdjson::dom::parser& parser) {
  const auto doc = parse_record(json, parser, "notification_events");
  auto need = [](auto&& result, const char* what) {
    return std::string(required(std::forward<decltype(result)>(result), "notification_events", what));
  };
  ServiceNotification n;
  n.user_id = need(doc["user_id"].get_string(), "user_id");
  n.type = need(doc["type"].get_string(), "type");
  n.title = need(doc["title"].get_string(), "title");
  n.idempotency_key = need(doc["idempotency_key"].get_string(), "idempotency_key");
  n.created_at = need(doc["created_at"].get_string(), "created_at");
  const auto at = util::parse_rfc3339(n.created_at);
  if (!at) throw std::invalid_argument("notification_events' created_at is not an RFC 3339 date-time");
  n.created_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch()).count();
  n.body = optional_string(doc, "body");
  n.source = optional_string(doc, "requested_by");
  if (auto data = doc["data"]; data.error() != simdjson::NO_SUCH_FIELD) n.data_json = simdjson::minify(data.value_unsafe());
  if (auto channels = doc["channels"]; channels.error() != simdjson::NO_SUCH_FIELD) n.channels = channel_bits(channels.value_unsafe());
  n.id = redis::notifications::notification_id(n.idempotency_key);
  return n;
}

std::string notification_record(const ServiceNotification& n) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  append_fields(w, n);
  w.end_object();
  return out;
}

std::string notification_payload(const ServiceNotification& n) {
  std::string out;
  json::Writer w(out);
  w.begin_object().field("event", "notification");
  append_fields(w, n);
  w.end_object();
  return out;
}

}  // namespace anipipe::notify
