// The edge's internal API (service tokens): writes that become events - sync requests, cache
// invalidations, subscriptions, services' notifications.
#include <simdjson.h>

#include <functional>
#include <variant>

#include "api_support.hpp"
#include "http_api.hpp"
#include "json/json_writer.hpp"
#include "redis/notification_keys.hpp"
#include "sync_replies.hpp"
#include "topic_names.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

using namespace std::chrono_literals;
using namespace api;

namespace {

/// The value of an event the internal API writes: its own fields, then who asked and the correlation id.
std::string event_value(const util::JwtClaims& caller, std::string_view cid, const std::function<void(json::Writer&)>& fields) {
  std::string value;
  json::Writer w(value);
  w.begin_object();
  fields(w);
  w.field("requested_by", caller.subject.empty() ? std::string("edge") : caller.subject).field("correlation_id", cid).end_object();
  return value;
}

}  // namespace

HttpResponse Api::internal(const HttpRequest& request, std::string_view path, const ServiceToken& token) {
  struct Route {
    std::string_view path, method;
  };
  static constexpr Route routes[] = {{"/internal/sync/title", "POST"},      {"/internal/stats", "GET"},
                                     {"/internal/cache/clear", "DELETE"},   {"/internal/subscriptions", "POST"},
                                     {"/internal/subscriptions", "DELETE"}, {"/internal/notifications", "POST"}};
  bool known = false, allowed = false;
  std::string allow;
  for (const auto& r : routes)
    if (r.path == path) {
      known = true;
      allowed = allowed || r.method == request.method;
      allow += (allow.empty() ? "" : ", ") + std::string(r.method);
    }
  if (!known) return error(404, "not_found", "no such route: " + std::string(path));
  util::JwtClaims caller;
  if (auto refused = check_service_token(request, token, caller)) return *refused;
  if (!allowed) {
    auto r = error(405, "method_not_allowed", std::string(path) + " takes " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (path == "/internal/stats") return stats();
  if (path == "/internal/sync/title") return sync_title(request, caller);
  if (path == "/internal/cache/clear") return cache_clear(request, caller);
  if (path == "/internal/notifications") return publish_notification(request, caller);
  return subscription(request, caller, request.method == "POST");
}

HttpResponse Api::sync_title(const HttpRequest& request, const util::JwtClaims& caller) {
  const auto q = request.target.find('?');
  std::chrono::milliseconds wait{0};
  if (q != std::string_view::npos) {
    const auto params = parse_query(request.target.substr(q + 1));
    if (!params) return error(400, "invalid_query", "a malformed percent-escape in the query string");
    for (const auto& [k, v] : *params) {
      if (k != "wait") return error(400, "unknown_parameter", "unknown parameter " + k + " (wait)");
      const auto ms = parse_int<std::int64_t>(v);
      if (!ms || *ms < 0 || *ms > settings_.max_wait.count())
        return error(400, "invalid_parameter", "wait is milliseconds from 0 to " + std::to_string(settings_.max_wait.count()));
      wait = std::chrono::milliseconds(*ms);
    }
  }
  auto body = json_body(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return *refused;
  const auto& obj = std::get<simdjson::dom::object>(body);
  if (auto f = unknown_field(obj, {"title_id", "force", "priority"})) return error(422, "invalid_body", "unknown field " + *f);
  std::int64_t id = 0;
  if (obj["title_id"].get(id) || id < 1 || id > catalog::kMaxTitleId)
    return error(422, "invalid_body", "title_id must be a positive integer up to 2^53 - 1");
  bool force = false;
  if (auto f = obj["force"]; f.error() != simdjson::NO_SUCH_FIELD && f.get(force))
    return error(422, "invalid_body", "force must be a boolean");
  std::string_view priority = "normal";
  if (auto p = obj["priority"]; p.error() != simdjson::NO_SUCH_FIELD && p.get(priority))
    return error(422, "invalid_body", "priority must be a string");
  const auto maybe_cid = correlation_for(request);
  if (!maybe_cid) return bad_idempotency_key();
  const auto& cid = *maybe_cid;
  const auto value = event_value(caller, cid,
                                 [&](json::Writer& w) { w.field("title_id", id).field("force", force).field("priority", priority); });
  auto waiter = wait.count() > 0 ? parts_.replies.expect(cid) : nullptr;
  const auto written = parts_.writer.write(settings_.topics.sync_requests, topic_names::kSyncRequests, std::to_string(id), value,
                                           kafka::EventHeaders::new_root("edge", cid));
  if (auto refused = unless_written(written, cid)) {
    if (waiter) parts_.replies.wait(waiter, 0ms);
    return *refused;
  }
  if (waiter)
    if (auto reply = parts_.replies.wait(waiter, wait)) {
      // Dead-lettered by sync, never retried: the request itself is at fault, as with the edge's own 422s.
      if (auto why = rejection_of(*reply)) return error(422, "rejected", "sync refused the request: " + *why);
      return json_response(200, *reply);
    }
  std::string out;
  json::Writer(out).begin_object().field("correlation_id", cid).field("title_id", id).field("status", "accepted").end_object();
  return json_response(202, std::move(out));
}

HttpResponse Api::cache_clear(const HttpRequest& request, const util::JwtClaims& caller) {
  auto body = json_body(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return *refused;
  const auto& obj = std::get<simdjson::dom::object>(body);
  if (auto f = unknown_field(obj, {"pattern", "confirm"})) return error(422, "invalid_body", "unknown field " + *f);
  std::string_view pattern;
  if (obj["pattern"].get(pattern) || pattern.empty()) return error(422, "invalid_body", "pattern must be a non-empty string");
  bool confirm = false;
  if (obj["confirm"].get(confirm) || !confirm) return error(400, "confirmation_required", "clearing a cache needs \"confirm\": true");
  const auto maybe_cid = correlation_for(request);
  if (!maybe_cid) return bad_idempotency_key();
  const auto& cid = *maybe_cid;
  const auto value = event_value(caller, cid, [&](json::Writer& w) { w.field("scope", "pattern").field("pattern", pattern); });
  const auto written = parts_.writer.write(settings_.topics.cache_invalidations, topic_names::kCacheInvalidations, std::string(pattern),
                                           value, kafka::EventHeaders::new_root("edge", cid));
  if (auto refused = unless_written(written, cid)) return *refused;
  std::string out;
  json::Writer(out).begin_object().field("correlation_id", cid).field("status", "accepted").end_object();
  return json_response(202, std::move(out));
}

HttpResponse Api::subscription(const HttpRequest& request, const util::JwtClaims& caller, bool subscribe) {
  (void)caller;
  auto body = json_body(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return *refused;
  const auto& obj = std::get<simdjson::dom::object>(body);
  if (auto f = subscribe ? unknown_field(obj, {"title_id", "subscriber_id", "channels"})
                         : unknown_field(obj, {"title_id", "subscriber_id"}))
    return error(422, "invalid_body", "unknown field " + *f);
  std::int64_t id = 0;
  if (obj["title_id"].get(id) || id < 1 || id > catalog::kMaxTitleId)
    return error(422, "invalid_body", "title_id must be a positive integer up to 2^53 - 1");
  std::string_view who;
  if (obj["subscriber_id"].get(who) || who.empty() || who.size() > 128 || who.find(':') != std::string_view::npos ||
      std::any_of(who.begin(), who.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return error(422, "invalid_body", "subscriber_id must be 1 to 128 bytes without ':' or control characters");
  const auto key = std::to_string(id) + ":" + std::string(who);
  std::optional<std::string> value;
  if (subscribe) {
    value.emplace();
    json::Writer w(*value);
    w.begin_object().field("title_id", id).field("subscriber_id", who);
    if (auto c = obj["channels"]; c.error() != simdjson::NO_SUCH_FIELD) w.key("channels").raw(simdjson::minify(c.value_unsafe()));
    w.field("created_at", util::now_rfc3339()).end_object();
  }
  // A subscription is a key and its latest value (compacted): writing it twice is writing it once.
  const auto maybe_cid = correlation_for(request);
  if (!maybe_cid) return bad_idempotency_key();
  const auto written = parts_.writer.write(settings_.topics.subscriptions, topic_names::kSubscriptions, key, value,
                                           kafka::EventHeaders::new_root("edge", *maybe_cid));
  if (auto refused = unless_written(written, *maybe_cid)) return *refused;
  std::string out;
  json::Writer(out)
      .begin_object()
      .field("title_id", id)
      .field("subscriber_id", who)
      .field("status", subscribe ? "subscribed" : "unsubscribed")
      .end_object();
  return json_response(202, std::move(out));
}

HttpResponse Api::publish_notification(const HttpRequest& request, const util::JwtClaims& caller) {
  auto body = json_body(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return *refused;
  const auto& obj = std::get<simdjson::dom::object>(body);
  if (auto f = unknown_field(obj, {"user_id", "type", "title", "body", "data", "channels", "idempotency_key", "created_at"}))
    return error(422, "invalid_body", "unknown field " + *f);
  // The publisher's name for the notification, in the body or as the Idempotency-Key header (the same if both).
  std::string_view key = request.idempotency_key;
  if (auto k = obj["idempotency_key"]; k.error() != simdjson::NO_SUCH_FIELD) {
    std::string_view in_body;
    if (k.get(in_body) || (!key.empty() && key != in_body))
      return error(422, "invalid_body", "idempotency_key must be a string, the same as the Idempotency-Key header when both are given");
    key = in_body;
  }
  if (key.empty())
    return error(422, "invalid_body", "idempotency_key (or the Idempotency-Key header) is required: a retry must be recognisable");
  std::string_view user;
  if (obj["user_id"].get(user)) return error(422, "invalid_body", "user_id must be a string");
  const auto cid = correlation_id();
  // The schema (notification_events) judges the rest before anything is produced: a 422 with its reason.
  const auto value = event_value(caller, cid, [&](json::Writer& w) {
    for (auto [k, v] : obj)
      if (k != "idempotency_key") w.key(k).raw(simdjson::minify(v));
    w.field("idempotency_key", key);
    if (obj["created_at"].error() == simdjson::NO_SUCH_FIELD) w.field("created_at", util::now_rfc3339());
  });
  const auto written = parts_.writer.write(settings_.topics.notification_events, topic_names::kNotificationEvents, std::string(user), value,
                                           kafka::EventHeaders::new_root("edge", cid));
  if (auto refused = unless_written(written, cid)) return *refused;
  std::string out;
  json::Writer(out)
      .begin_object()
      .field("id", redis::notifications::notification_id(key))
      .field("idempotency_key", key)
      .field("status", "accepted")
      .end_object();
  return json_response(202, std::move(out));
}

}  // namespace anipipe::edge
