#include "http_api.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <simdjson.h>

#include <algorithm>
#include <variant>

#include "api_support.hpp"
#include "json/json_writer.hpp"
#include "migration.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

using namespace std::chrono_literals;
using namespace api;

Api::Api(ApiSettings settings, ApiParts parts)
    : settings_(std::move(settings)), parts_(std::move(parts)), per_ip_(settings_.ip_rate, settings_.ip_burst),
      per_user_(settings_.user_rate, settings_.user_burst), miss_budget_(settings_.misses) {
  // One key for both would let whoever mints user tokens mint internal ones.
  if (!settings_.users.secret.empty() && settings_.users.secret == settings_.service_secret)
    throw std::invalid_argument("--user-secret must differ from --service-secret: a user-token key must not open the internal API");
  if (parts_.registry) metrics_ = std::make_unique<EdgeMetrics>(*parts_.registry);
  users_ = std::make_unique<UserTokens>(settings_.users, parts_.registry);
  if (!settings_.migration.legacy.url.empty())
    migration_ = std::make_unique<Migration>(
        settings_.migration, parts_.writer, parts_.registry, [this](const HttpRequest& r) { return serve(r, std::nullopt); },
        [this](const HttpRequest& r) {
          // Routing never costs the back end a call: only a token the edge already knows names a user.
          const auto bearer = util::bearer_token(r.authorization);
          return bearer ? users_->known_user(*bearer) : std::string();
        });
}

Api::~Api() = default;

HttpResponse Api::error(int status, std::string_view code, std::string_view detail) {
  std::string body;
  json::Writer(body).begin_object().field("error", code).field("detail", detail).end_object();
  return json_response(status, std::move(body));
}

std::vector<std::pair<std::string, std::string>> Api::cors_headers(std::string_view origin) const {
  if (origin.empty()) return {};
  const bool any = std::find(settings_.cors_origins.begin(), settings_.cors_origins.end(), "*") != settings_.cors_origins.end();
  if (!any && std::find(settings_.cors_origins.begin(), settings_.cors_origins.end(), origin) == settings_.cors_origins.end()) return {};
  return {{"Access-Control-Allow-Origin", any ? "*" : std::string(origin)},
          {"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
          {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match"},
          {"Access-Control-Expose-Headers", "ETag, Retry-After"},
          {"Access-Control-Max-Age", "600"},
          {"Vary", "Origin"}};
}

HttpResponse Api::handle(const HttpRequest& request) {
  ++requests_;
  return with_cors(route(request), request);
}

HttpResponse Api::with_cors(HttpResponse r, const HttpRequest& request) const {
  for (auto& h : cors_headers(request.origin)) r.headers.push_back(std::move(h));
  return r;
}

std::optional<HttpResponse> Api::rate_limit(const HttpRequest& request, const ServiceToken& token) {
  auto refuse = [](std::chrono::milliseconds wait, std::string_view who) {
    auto r = error(429, "rate_limited", std::string("too many requests from this ") + std::string(who));
    r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, (wait.count() + 999) / 1000)));
    return r;
  };
  if (auto wait = per_ip_.acquire(request.client_ip); wait.count() > 0) return refuse(wait, "address");
  if (per_user_.enabled() && token) {
    // A service token names its caller; otherwise the token may be a user's (one already known:
    // a rate limit must not cost the back end a call).
    std::string subject = token->ok() ? token->claims.subject : std::string();
    if (const auto bearer = util::bearer_token(request.authorization); !token->ok() && bearer) subject = users_->known_user(*bearer);
    if (!subject.empty())
      if (auto wait = per_user_.acquire("user:" + subject); wait.count() > 0) return refuse(wait, "user");
  }
  return std::nullopt;
}

HttpResponse Api::route(const HttpRequest& request) {
  const auto q = request.target.find('?');
  const auto path = request.target.substr(0, q);
  if (path.empty() || path.front() != '/') return error(400, "bad_request", "the target must be an absolute path");
  if (request.method == "OPTIONS") {
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  const auto token = service_token(request);
  if (auto limited = rate_limit(request, token)) return *limited;
  return serve(request, token);
}

Api::ServiceToken Api::service_token(const HttpRequest& request) const {
  if (const auto bearer = util::bearer_token(request.authorization))
    return util::verify_hs256(*bearer, settings_.service_secret, std::chrono::system_clock::now(), 30s,
                              {.require_exp = true, .max_lifetime = settings_.service_token_max_lifetime});
  return std::nullopt;
}

HttpResponse Api::serve(const HttpRequest& request, const ServiceToken& token) {
  const auto q = request.target.find('?');
  const auto path = request.target.substr(0, q);
  if (path == "/health") return json_response(200, R"({"status":"ok"})");
  if (path == "/ready") {
    const bool ready = parts_.catalog_ready() && parts_.replies.ready();
    std::string body;
    json::Writer(body).begin_object().field("ready", ready).field("titles", static_cast<std::uint64_t>(parts_.catalog.size())).end_object();
    return json_response(ready ? 200 : 503, std::move(body));
  }
  if (path == "/metrics") return metrics_text();
  if (path == "/demo" && request.method == "GET" && !settings_.demo_page.empty()) {
    HttpResponse page;
    page.content_type = "text/html; charset=utf-8";
    page.body = settings_.demo_page;
    return page;
  }
  for (const bool v1 : {false, true}) {
    const auto base = v1 ? kV1 : kV2;
    if (!path.starts_with(base) || (path.size() > base.size() && path[base.size()] != '/')) continue;
    if (request.method != "GET" && request.method != "HEAD") {
      auto r = error(405, "method_not_allowed", "titles are read with GET");
      r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
      return r;
    }
    if (path.size() <= base.size() + 1) return titles(request, q == std::string_view::npos ? "" : request.target.substr(q + 1), v1);
    const auto id_text = path.substr(base.size() + 1);
    const auto id = catalog::parse_title_id(id_text);
    if (!id) return error(400, "invalid_id", "a title id is a positive integer up to 2^53 - 1, written without leading zeros");
    if (q != std::string_view::npos && q + 1 < request.target.size())
      return error(400, "unknown_parameter", "a single title takes no query parameters");
    return title(request, *id, v1);
  }
  if (path.starts_with("/internal/")) return internal(request, path, token);
  if (path == "/api/notifications" || path.starts_with("/api/notifications/")) return notifications(request, path);
  return error(404, "not_found", "no such route: " + std::string(path));
}

bool Api::may_block(const HttpRequest& request) const {
  const auto path = request.target.substr(0, request.target.find('?'));
  // Every internal write waits for Kafka's acknowledgement: during a broker outage, up to the
  // answer's deadline. Never on an I/O thread, where it would stall every other client.
  if (path.starts_with("/internal/") && request.method != "GET") return true;
  if (path.starts_with("/api/notifications")) return true;  // Redis, and a user token the back end may check
  for (const auto base : {kV2, kV1}) {
    if (path.size() <= base.size() + 1 || !path.starts_with(base) || path[base.size()] != '/') continue;
    const auto id = catalog::parse_title_id(path.substr(base.size() + 1));
    // A recent "not found" is answered from memory, right here.
    return id && !parts_.catalog.find(*id) && !miss_budget_.known_missing(*id);
  }
  return false;
}

std::optional<HttpResponse> Api::check_service_token(const HttpRequest& request, const ServiceToken& token, util::JwtClaims& claims) {
  if (request.authorization.empty()) {
    auto r = error(401, "unauthorized", "a service token is required (Authorization: Bearer <HS256 JWT>)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!token) return error(401, "unauthorized", "the Authorization scheme must be Bearer");
  const auto& v = *token;
  if (!v.ok()) {
    auto r = error(401, "unauthorized", v.detail);
    r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return r;
  }
  if (!v.claims.has_scope(settings_.service_scope))
    return error(403, "forbidden", "the token lacks the '" + settings_.service_scope + "' scope");
  claims = v.claims;
  return std::nullopt;
}

HttpResponse Api::stats() {
  const double hits = static_cast<double>(hits_.load()), misses = static_cast<double>(misses_.load());
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("catalog")
      .begin_object()
      .field("titles", static_cast<std::uint64_t>(parts_.catalog.size()))
      .field("ready", parts_.catalog_ready())
      .field("lag", parts_.catalog_lag())
      .end_object();
  w.field("connections", static_cast<std::uint64_t>(parts_.hub.connections()));
  w.key("cache")
      .begin_object()
      .field("hits", hits_.load())
      .field("misses", misses_.load())
      .field("hit_rate", hits + misses > 0 ? hits / (hits + misses) : 0.0)
      .end_object();
  w.field("requests", requests_.load());
  w.end_object();
  return json_response(200, std::move(out));
}

HttpResponse Api::metrics_text() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  if (parts_.registry) r.body = prometheus::TextSerializer().Serialize(parts_.registry->Collect());
  return r;
}

std::pair<std::optional<std::string>, std::optional<HttpResponse>> Api::websocket_user(const HttpRequest& request) {
  // An upgrade is a request like any other: it counts against the address's rate.
  if (auto limited = rate_limit(request, std::nullopt)) return {std::nullopt, std::move(*limited)};
  std::string_view token = util::bearer_token(request.authorization).value_or(std::string_view());
  std::string from_query;
  if (const auto q = request.target.find('?'); token.empty() && q != std::string_view::npos) {
    const auto params = parse_query(request.target.substr(q + 1));
    if (!params) return {std::nullopt, error(400, "invalid_query", "a malformed percent-escape in the query string")};
    for (const auto& [k, v] : *params)
      if (k == "token") from_query = v;
    token = from_query;
  }
  if (token.empty()) return {std::nullopt, std::nullopt};  // anonymous: title pushes only
  auto user = user_of(token);
  if (auto* refused = std::get_if<HttpResponse>(&user)) return {std::nullopt, std::move(*refused)};
  return {std::move(std::get<std::string>(user)), std::nullopt};
}

std::variant<std::string, HttpResponse> Api::user_of(std::string_view token) {
  if (!users_->enabled())
    return error(401, "unauthorized", "this edge takes no user tokens (no --user-secret or --auth-validate-url): connect without one");
  auto checked = users_->check(token);
  if (checked.kind == UserCheck::Kind::unavailable)
    return error(503, "auth_unavailable", "the back end that checks user tokens did not answer; try again");
  if (checked.kind == UserCheck::Kind::refused) return error(401, "unauthorized", checked.text);
  return std::move(checked.text);
}

}  // namespace anipipe::edge
