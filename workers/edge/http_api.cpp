#include "http_api.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>
#include <variant>

#include "json/json_writer.hpp"
#include "util/clock.hpp"
#include "util/hex.hpp"

namespace anipipe::edge {

using namespace std::chrono_literals;

namespace {

constexpr std::string_view kV2 = "/api/anilibria/v2/titles", kV1 = "/api/anilibria/v1/titles";
thread_local simdjson::dom::parser t_parser;

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  for (std::size_t i = 0; i < if_none_match.size();) {
    auto end = std::min(if_none_match.find(',', i), if_none_match.size());
    auto tag = if_none_match.substr(i, end - i);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison, as If-None-Match uses
    if (tag == etag) return true;
    i = end + 1;
  }
  return false;
}

template <class T> std::optional<T> parse_int(std::string_view s) {
  T v{};
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string correlation_id() { return "edge-" + util::random_hex(32); }

/// The caller's Idempotency-Key as the write's correlation id (so a retry is recognisable to the
/// consumers, which drop what they already applied), or a new one. nullopt: not a usable key.
std::optional<std::string> correlation_for(const HttpRequest& r) {
  if (r.idempotency_key.empty()) return correlation_id();
  if (r.idempotency_key.size() > 100 || !std::all_of(r.idempotency_key.begin(), r.idempotency_key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
      }))
    return std::nullopt;
  return std::string(r.idempotency_key);
}

HttpResponse bad_idempotency_key() {
  return Api::error(400, "invalid_idempotency_key", "Idempotency-Key is 1 to 100 letters, digits, '-', '_', '.' or ':'");
}

/// What a write that did not simply succeed answers: 422 (refused by its contract), 503 with
/// Retry-After (certainly not written: safe to retry), 202 pending (timed out in flight: the
/// broker may have it; a retry with the same Idempotency-Key is safe). nullopt when written.
std::optional<HttpResponse> unless_written(const WriteOutcome& w, std::string_view cid) {
  switch (w.status) {
    case WriteOutcome::Status::written: return std::nullopt;
    case WriteOutcome::Status::invalid: return Api::error(422, "invalid_body", w.detail);
    case WriteOutcome::Status::unavailable: {
      auto r = Api::error(503, "unavailable", "not written, and it will not be: " + w.detail);
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    case WriteOutcome::Status::pending: {
      std::string out;
      json::Writer(out).begin_object().field("correlation_id", cid).field("status", "pending")
          .field("detail", "the broker may or may not have it (" + w.detail + "); retrying with Idempotency-Key: " + std::string(cid) +
                               " is safe")
          .end_object();
      HttpResponse r;
      r.status = 202;
      r.body = std::move(out);
      return r;
    }
  }
  return std::nullopt;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

bool is_json(std::string_view content_type) {
  const auto semi = content_type.find(';');
  auto base = content_type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower(base);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "application/json";
}

// The JSON object body of an internal call, or the response refusing it.
std::variant<simdjson::dom::object, HttpResponse> json_body(const HttpRequest& r) {
  if (!is_json(r.content_type)) return Api::error(415, "unsupported_media_type", "the body must be application/json");
  simdjson::dom::element doc;
  if (auto err = t_parser.parse(r.body.data(), r.body.size()).get(doc))
    return Api::error(400, "invalid_json", std::string("the body is not JSON: ") + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (doc.get(obj)) return Api::error(400, "invalid_json", "the body must be a JSON object");
  return obj;
}

std::optional<std::string> unknown_field(const simdjson::dom::object& obj, std::initializer_list<std::string_view> known) {
  for (auto [k, v] : obj)
    if (std::find(known.begin(), known.end(), k) == known.end()) return std::string(k);
  return std::nullopt;
}

}  // namespace


Api::Api(ApiSettings settings, ApiParts parts)
    : settings_(std::move(settings)), parts_(std::move(parts)), per_ip_(settings_.ip_rate, settings_.ip_burst),
      per_user_(settings_.user_rate, settings_.user_burst), miss_budget_(settings_.misses) {
  // One key for both would let whoever mints user tokens mint internal ones.
  if (!settings_.user_secret.empty() && settings_.user_secret == settings_.service_secret)
    throw std::invalid_argument("--user-secret must differ from --service-secret: a user-token key must not open the internal API");
  if (parts_.registry) metrics_ = std::make_unique<EdgeMetrics>(*parts_.registry);
}

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
  HttpResponse r = route(request);
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
    // A service token names its caller; otherwise the token may be a user's.
    const auto bearer = util::bearer_token(request.authorization);
    const auto user = token->ok() || settings_.user_secret.empty() || !bearer ? *token : util::verify_hs256(*bearer, settings_.user_secret);
    if (user.ok() && !user.claims.subject.empty())
      if (auto wait = per_user_.acquire("user:" + user.claims.subject); wait.count() > 0) return refuse(wait, "user");
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
  ServiceToken token;
  if (const auto bearer = util::bearer_token(request.authorization))
    token = util::verify_hs256(*bearer, settings_.service_secret, std::chrono::system_clock::now(), 30s,
                               {.require_exp = true, .max_lifetime = settings_.service_token_max_lifetime});
  if (auto limited = rate_limit(request, token)) return *limited;

  if (path == "/health") return json_response(200, R"({"status":"ok"})");
  if (path == "/ready") {
    const bool ready = parts_.catalog_ready() && parts_.replies.ready();
    std::string body;
    json::Writer(body).begin_object().field("ready", ready).field("titles", static_cast<std::uint64_t>(parts_.catalog.size()))
        .end_object();
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
  return error(404, "not_found", "no such route: " + std::string(path));
}

HttpResponse Api::titles(const HttpRequest& request, std::string_view query_text, bool v1) {
  const auto params = parse_query(query_text);
  if (!params) return error(400, "invalid_query", "a malformed percent-escape in the query string");
  TitleQuery query;
  std::vector<std::string_view> seen;
  for (const auto& [k, v] : *params) {
    // Percent-decoding can make any bytes; what the catalog compares and what errors echo is text.
    if (!json::is_valid_utf8(k) || !json::is_valid_utf8(v))
      return error(400, "invalid_query", "the query string decodes to something that is not UTF-8 (parameter " + k + ")");
    if (std::find(seen.begin(), seen.end(), k) != seen.end()) return error(400, "duplicate_parameter", "parameter " + k + " given twice");
    seen.push_back(k);
    if (k == "page") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1 || *n > 1'000'000) return error(400, "invalid_parameter", "page is an integer from 1");
      query.page = static_cast<std::size_t>(*n);
    } else if (k == "limit") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1 || *n > static_cast<std::int64_t>(settings_.max_limit))
        return error(400, "invalid_parameter", "limit is an integer from 1 to " + std::to_string(settings_.max_limit));
      query.limit = static_cast<std::size_t>(*n);
    } else if (k == "year") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1900 || *n > 2100) return error(400, "invalid_parameter", "year is an integer from 1900 to 2100");
      query.year = *n;
    } else if (k == "season") {
      if (v != "winter" && v != "spring" && v != "summer" && v != "autumn")
        return error(400, "invalid_parameter", "season is one of winter, spring, summer, autumn");
      query.season = v;
    } else if (k == "status") {
      if (v.empty() || v.size() > 32 || !std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
        return error(400, "invalid_parameter", "status is a lower-case word, e.g. ongoing or finished");
      query.status = v;
    } else if (k == "genre") {
      if (v.empty() || v.size() > 64) return error(400, "invalid_parameter", "genre is 1 to 64 bytes");
      query.genre = v;
    } else if (k == "q") {
      if (v.empty() || v.size() > 100) return error(400, "invalid_parameter", "q is 1 to 100 bytes");
      query.q = v;
    } else {
      return error(400, "unknown_parameter", "unknown parameter " + k + " (page, limit, genre, year, season, status, q)");
    }
  }
  const auto page = parts_.catalog.list(query);
  std::string body;
  body.reserve(256 + page.items.size() * 2048);
  body += v1 ? R"({"success":true,"data":[)" : R"({"data":[)";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) body += ',';
    body += v1 ? page.items[i]->v1_json : page.items[i]->v2_json;
  }
  body += "],";
  json::Writer w(body);
  w.key("pagination").begin_object().field("page", static_cast<std::uint64_t>(query.page))
      .field("limit", static_cast<std::uint64_t>(query.limit)).field("total", static_cast<std::uint64_t>(page.total))
      .field("pages", static_cast<std::uint64_t>((page.total + query.limit - 1) / query.limit)).end_object();
  body += '}';
  // The body is a function of its items' versions and the page: hash those (a few hundred bytes)
  // rather than the whole body (tens of KB per request).
  std::string version = v1 ? "v1" : "v2";
  for (const auto& item : page.items) version += item->etag;
  version += std::to_string(page.total) + "/" + std::to_string(query.page) + "/" + std::to_string(query.limit);
  auto etag = strong_etag(version);
  if (etag_matches(request.if_none_match, etag)) {
    HttpResponse r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", std::move(etag));
    return r;
  }
  auto r = json_response(200, std::move(body));
  r.headers.emplace_back("ETag", std::move(etag));
  return r;
}

HttpResponse Api::title(const HttpRequest& request, std::int64_t id, bool v1) {
  auto entry = parts_.catalog.find(id);
  if (entry) {
    ++hits_;
  } else {
    ++misses_;
    auto found = missing_title(request, id);
    if (auto* refused = std::get_if<HttpResponse>(&found)) return std::move(*refused);
    entry = std::get<std::shared_ptr<const CatalogEntry>>(std::move(found));
  }
  const auto& etag = entry->etag;
  if (etag_matches(request.if_none_match, etag)) {
    HttpResponse r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", etag);
    return r;
  }
  auto r = json_response(200, v1 ? R"({"success":true,"data":)" + entry->v1_json + "}" : entry->v2_json);
  r.headers.emplace_back("ETag", etag);
  return r;
}

std::variant<std::shared_ptr<const CatalogEntry>, HttpResponse> Api::missing_title(const HttpRequest& request, std::int64_t id) {
  using Outcome = MissBudget::Outcome;
  using Kind = MissBudget::Ticket::Kind;
  const auto count = [this](std::string_view outcome) {
    if (metrics_) metrics_->miss(outcome);
  };
  const auto not_found = [&](std::string detail) { return error(404, "not_found", std::move(detail)); };
  const auto unavailable = [&](int status, std::string code, std::string detail) {
    auto r = error(status, code, std::move(detail));
    r.headers.emplace_back("Retry-After", status == 503 && code == "upstream_unavailable" ? "5" : "1");
    return r;
  };
  const auto started = std::chrono::steady_clock::now();
  // The catalog follows anilibria.titles: a synced title arrives a moment after the reply.
  const auto await_catalog = [&] {
    std::shared_ptr<const CatalogEntry> e;
    while (!(e = parts_.catalog.find(id)) && std::chrono::steady_clock::now() - started < settings_.miss_wait)
      std::this_thread::sleep_for(5ms);
    return e;
  };
  auto ticket = miss_budget_.admit(id, request.client_ip);
  switch (ticket.kind) {
    case Kind::known_missing:
      count("hit_negative");
      return not_found("title " + std::to_string(id) + " does not exist upstream (asked moments ago)");
    case Kind::over_address:
      count("refused");
      return unavailable(429, "too_many_misses", "too many reads of unknown titles from this address at once");
    case Kind::over_total:
      count("refused");
      return unavailable(503, "too_many_misses", "too many reads of unknown titles at once");
    case Kind::follower: {
      count("coalesced");
      const auto outcome = miss_budget_.wait(ticket, settings_.miss_wait);
      if (outcome == Outcome::found)
        if (auto e = await_catalog()) return e;
      if (outcome == Outcome::unavailable)
        return unavailable(503, "upstream_unavailable", "title " + std::to_string(id) + " is not in the catalog and could not be synced");
      return not_found("title " + std::to_string(id) + " is not in the catalog");
    }
    case Kind::leader: break;
  }
  // The leader: ask sync for it and wait briefly (request-reply on sync_results).
  const auto cid = correlation_id();
  auto waiter = parts_.replies.expect(cid);
  std::string value;
  json::Writer(value).begin_object().field("title_id", id).field("force", false).field("priority", "high")
      .field("requested_by", "edge").field("correlation_id", cid).end_object();
  const auto written = parts_.writer.write(settings_.topics.sync_requests, "anilibria.sync_requests", std::to_string(id), value,
                                           kafka::EventHeaders::new_root("edge", cid));
  if (written.status != WriteOutcome::Status::written) {
    parts_.replies.wait(waiter, 0ms);
    miss_budget_.finish(ticket, Outcome::unavailable);
    count("unavailable");
    return unavailable(503, "unavailable",
                       "title " + std::to_string(id) + " is not in the catalog and a sync could not be requested: " + written.detail);
  }
  const auto reply = parts_.replies.wait(waiter, settings_.miss_wait);
  std::string status;
  if (reply) {
    simdjson::dom::element doc;
    std::string_view s;
    if (!t_parser.parse(*reply).get(doc) && !doc["status"].get(s)) status = s;
  }
  if (status == "changed" || status == "unchanged") {
    miss_budget_.finish(ticket, Outcome::found);
    count("synced");
    if (auto e = await_catalog()) return e;
    return not_found("title " + std::to_string(id) + " was synced and is on its way to the catalog; ask again (" + cid + ")");
  }
  if (status == "upstream_unavailable") {
    miss_budget_.finish(ticket, Outcome::unavailable);
    count("unavailable");
    return unavailable(503, "upstream_unavailable", "title " + std::to_string(id) + " is not in the catalog and the upstream is unavailable");
  }
  if (status == "not_found") {
    miss_budget_.finish(ticket, Outcome::not_found);  // remembered: the next read is answered at once
    count("not_found");
    return not_found("title " + std::to_string(id) + " does not exist upstream");
  }
  miss_budget_.finish(ticket, Outcome::unavailable);
  count("unavailable");
  return not_found("title " + std::to_string(id) + " is not in the catalog; a sync was requested (" + cid + ")");
}

bool Api::may_block(const HttpRequest& request) const {
  const auto q = request.target.find('?');
  const auto path = request.target.substr(0, q);
  // Every internal write waits for Kafka's acknowledgement: during a broker outage, up to the
  // answer's deadline. Never on an I/O thread, where it would stall every other client.
  if (path.starts_with("/internal/") && request.method != "GET") return true;
  for (const auto base : {kV2, kV1}) {
    if (path.size() <= base.size() + 1 || !path.starts_with(base) || path[base.size()] != '/') continue;
    const auto id = catalog::parse_title_id(path.substr(base.size() + 1));
    // A recent "not found" is answered from memory, right here.
    return id && !parts_.catalog.find(*id) && !miss_budget_.known_missing(*id);
  }
  return false;
}

std::optional<HttpResponse> Api::check_service_token(const HttpRequest& request, const ServiceToken& token,
                                                     util::JwtClaims& claims) {
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

HttpResponse Api::internal(const HttpRequest& request, std::string_view path, const ServiceToken& token) {
  struct Route {
    std::string_view path, method;
  };
  static constexpr Route routes[] = {{"/internal/sync/title", "POST"},    {"/internal/stats", "GET"},
                                     {"/internal/cache/clear", "DELETE"}, {"/internal/subscriptions", "POST"},
                                     {"/internal/subscriptions", "DELETE"}};
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
  if (auto f = obj["force"]; f.error() != simdjson::NO_SUCH_FIELD && f.get(force)) return error(422, "invalid_body", "force must be a boolean");
  std::string_view priority = "normal";
  if (auto p = obj["priority"]; p.error() != simdjson::NO_SUCH_FIELD && p.get(priority))
    return error(422, "invalid_body", "priority must be a string");
  const auto maybe_cid = correlation_for(request);
  if (!maybe_cid) return bad_idempotency_key();
  const auto& cid = *maybe_cid;
  std::string value;
  json::Writer(value).begin_object().field("title_id", id).field("force", force).field("priority", priority)
      .field("requested_by", caller.subject.empty() ? std::string("edge") : caller.subject).field("correlation_id", cid).end_object();
  auto waiter = wait.count() > 0 ? parts_.replies.expect(cid) : nullptr;
  const auto written = parts_.writer.write(settings_.topics.sync_requests, "anilibria.sync_requests", std::to_string(id), value,
                                           kafka::EventHeaders::new_root("edge", cid));
  if (auto refused = unless_written(written, cid)) {
    if (waiter) parts_.replies.wait(waiter, 0ms);
    return *refused;
  }
  if (waiter)
    if (auto reply = parts_.replies.wait(waiter, wait)) return json_response(200, *reply);
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
  if (obj["confirm"].get(confirm) || !confirm)
    return error(400, "confirmation_required", "clearing a cache needs \"confirm\": true");
  const auto maybe_cid = correlation_for(request);
  if (!maybe_cid) return bad_idempotency_key();
  const auto& cid = *maybe_cid;
  std::string value;
  json::Writer(value).begin_object().field("scope", "pattern").field("pattern", pattern)
      .field("requested_by", caller.subject.empty() ? std::string("edge") : caller.subject).field("correlation_id", cid).end_object();
  const auto written = parts_.writer.write(settings_.topics.cache_invalidations, "anilibria.cache_invalidations", std::string(pattern),
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
  if (auto f = subscribe ? unknown_field(obj, {"title_id", "subscriber_id", "channels"}) : unknown_field(obj, {"title_id", "subscriber_id"}))
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
  const auto written = parts_.writer.write(settings_.topics.subscriptions, "anilibria.subscriptions", key, value,
                                           kafka::EventHeaders::new_root("edge", *maybe_cid));
  if (auto refused = unless_written(written, *maybe_cid)) return *refused;
  std::string out;
  json::Writer(out).begin_object().field("title_id", id).field("subscriber_id", who)
      .field("status", subscribe ? "subscribed" : "unsubscribed").end_object();
  return json_response(202, std::move(out));
}

HttpResponse Api::stats() {
  const double hits = static_cast<double>(hits_.load()), misses = static_cast<double>(misses_.load());
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("catalog").begin_object().field("titles", static_cast<std::uint64_t>(parts_.catalog.size()))
      .field("ready", parts_.catalog_ready()).field("lag", parts_.catalog_lag()).end_object();
  w.field("connections", static_cast<std::uint64_t>(parts_.hub.connections()));
  w.key("cache").begin_object().field("hits", hits_.load()).field("misses", misses_.load())
      .field("hit_rate", hits + misses > 0 ? hits / (hits + misses) : 0.0).end_object();
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
  if (settings_.user_secret.empty())
    return {std::nullopt, error(401, "unauthorized", "this edge takes no user tokens (no --user-secret): connect without one")};
  const auto v = util::verify_hs256(token, settings_.user_secret);
  if (!v.ok()) return {std::nullopt, error(401, "unauthorized", v.detail)};
  if (v.claims.subject.empty()) return {std::nullopt, error(401, "unauthorized", "the token names no user (sub)")};
  return {v.claims.subject, std::nullopt};
}

}  // namespace anipipe::edge
