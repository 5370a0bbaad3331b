// A user's notifications (seed 004), read with the user's own token from the history notify keeps
// in Redis (notification_store.hpp): GET /api/notifications (newest first, paged, ?unread=true)
// and POST /api/notifications/{id}/read. Run off the I/O threads (Api::may_block).
#include <variant>

#include "api_support.hpp"
#include "http_api.hpp"
#include "json/json_writer.hpp"
#include "util/jwt.hpp"

namespace anipipe::edge {

using namespace api;

namespace {

HttpResponse history_unavailable(const std::exception& e) {
  auto r = Api::error(503, "unavailable", std::string("the notification history cannot be read now: ") + e.what());
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

/// The query of GET /api/notifications, or the response refusing it.
std::variant<HistoryQuery, HttpResponse> history_query(std::string_view target, std::size_t max_limit) {
  HistoryQuery query;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return query;
  const auto params = parse_query(target.substr(q + 1));
  if (!params) return Api::error(400, "invalid_query", "a malformed percent-escape in the query string");
  for (const auto& [k, v] : *params) {
    if (k == "limit") {
      const auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1 || static_cast<std::size_t>(*n) > max_limit)
        return Api::error(400, "invalid_parameter", "limit is from 1 to " + std::to_string(max_limit));
      query.limit = static_cast<std::size_t>(*n);
    } else if (k == "cursor") {
      query.after = HistoryCursor::parse(v);
      if (!query.after) return Api::error(400, "invalid_parameter", "cursor is a next_cursor this API returned");
    } else if (k == "unread") {
      if (v != "true" && v != "false") return Api::error(400, "invalid_parameter", "unread is true or false");
      query.unread_only = v == "true";
    } else {
      return Api::error(400, "unknown_parameter", "unknown parameter " + k + " (limit, cursor, unread)");
    }
  }
  return query;
}

}  // namespace

HttpResponse Api::notifications(const HttpRequest& request, std::string_view path) {
  const bool list = path == "/api/notifications";
  constexpr std::string_view kItem = "/api/notifications/", kRead = "/read";
  std::string_view id;  // of POST /api/notifications/{id}/read
  if (!list && path.starts_with(kItem) && path.ends_with(kRead) && path.size() > kItem.size() + kRead.size())
    id = path.substr(kItem.size(), path.size() - kItem.size() - kRead.size());
  if (!list && (id.empty() || id.find('/') != std::string_view::npos))
    return error(404, "not_found", "no such route: " + std::string(path));
  const std::string_view method = list ? "GET" : "POST";
  if (request.method != method && !(list && request.method == "HEAD")) {
    auto r = error(405, "method_not_allowed", std::string(path) + " takes " + std::string(method));
    r.headers.emplace_back("Allow", std::string(method));
    return r;
  }
  const auto bearer = util::bearer_token(request.authorization);
  if (!bearer || bearer->empty()) {
    auto r = error(401, "unauthorized", "a user token is required (Authorization: Bearer <token>)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  auto user = user_of(*bearer);
  if (auto* refused = std::get_if<HttpResponse>(&user)) return std::move(*refused);
  if (!parts_.notifications) return error(404, "not_found", "this edge keeps no notification history (started without --redis-url)");
  if (list) return notification_page(request, std::get<std::string>(user));
  try {
    if (!parts_.notifications->mark_read(std::get<std::string>(user), id))
      return error(404, "not_found", "no notification " + std::string(id) + " in this user's history");
  } catch (const std::exception& e) {
    return history_unavailable(e);
  }
  HttpResponse done;
  done.status = 204;
  done.content_type.clear();
  return done;
}

HttpResponse Api::notification_page(const HttpRequest& request, const std::string& user) {
  auto query = history_query(request.target, settings_.max_limit);
  if (auto* refused = std::get_if<HttpResponse>(&query)) return std::move(*refused);
  HistoryPage page;
  try {
    page = parts_.notifications->list(user, std::get<HistoryQuery>(query));
  } catch (const std::exception& e) {
    return history_unavailable(e);
  }
  std::string out;
  json::Writer w(out);
  w.begin_object().key("data").begin_array();
  for (const auto& item : page.items) w.raw(item);
  w.end_array().key("next_cursor");
  if (page.next) w.value(page.next->to_string());
  else w.null();
  w.field("unread", static_cast<std::uint64_t>(page.unread)).end_object();
  return json_response(200, std::move(out));
}

}  // namespace anipipe::edge
