#pragma once
// Every HTTP route of the edge as a function from request to response, without sockets (the
// server in http_server.cpp does the I/O): title reads from the in-memory catalog, the internal
// API that turns requests into events, health/ready/metrics, CORS, rate limits, and one error
// shape for everything refused: {"error": <short code>, "detail": <what was wrong>}.
#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "edge_metrics.hpp"
#include "event_writer.hpp"
#include "http/query.hpp"
#include "live_hub.hpp"
#include "migration_settings.hpp"
#include "miss_budget.hpp"
#include "notification_store.hpp"
#include "rate_limiter.hpp"
#include "sync_replies.hpp"
#include "title_catalog.hpp"
#include "topic_names.hpp"
#include "user_tokens.hpp"
#include "util/jwt.hpp"

namespace prometheus {
class Registry;
}

namespace anipipe::edge {

class Migration;

/// Request headers a proxied request carries to the legacy back end (--legacy-url). Not
/// Accept-Encoding: the edge reads (and compares) the bodies it passes on.
inline constexpr std::array<std::string_view, 10> kForwardedRequestHeaders{
    "Authorization", "Content-Type", "Accept",       "Accept-Language",   "If-None-Match",
    "Cookie",        "User-Agent",   "X-Request-Id", "X-Forwarded-Proto", "If-Modified-Since"};

struct HttpRequest {
  std::string_view method;  // "GET", ...
  std::string_view target;  // origin-form: "/api/anilibria/v2/titles?page=2"
  std::string_view body;
  std::string_view authorization, if_none_match, origin, content_type;
  std::string_view idempotency_key;  // Idempotency-Key: the caller's name for a write it may retry
  std::string client_ip;             // the client (a trusted proxy's forwarded address, client_address.hpp)
  /// Those of kForwardedRequestHeaders the request has; filled only when the edge proxies (Api::forwards_headers).
  std::vector<std::pair<std::string_view, std::string_view>> forwarded;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // a name may repeat (Set-Cookie)
  std::optional<std::size_t> head_length;                    // a proxied HEAD's Content-Length (it has no body to measure)
};

/// How the server runs a request (Api::dispatch): the answer; the legacy's to ask (Api::proxy, on
/// the I/O thread, asynchronously); or dispatch again on the blocking pool.
struct ToLegacy {
  std::chrono::steady_clock::time_point started;
};
struct RunBlocking {};
using Dispatch = std::variant<HttpResponse, ToLegacy, RunBlocking>;

struct ApiTopics {
  std::string sync_requests = topic_names::kSyncRequests;
  std::string cache_invalidations = topic_names::kCacheInvalidations;
  std::string subscriptions = topic_names::kSubscriptions;
  std::string notification_events = topic_names::kNotificationEvents;
};

struct ApiSettings {
  ApiTopics topics;
  std::string service_secret;  // HS256 key of service tokens (internal API)
  UserTokenSettings users;     // user tokens (WebSocket): a key (users.secret, never the service key) or the back end
  std::chrono::seconds service_token_max_lifetime{86'400};  // a service token must expire within this
  std::string service_scope = "internal";
  std::chrono::milliseconds miss_wait{3'000};  // an unknown id: how long to wait for its sync
  std::chrono::milliseconds max_wait{30'000};  // the most ?wait= may ask
  std::chrono::milliseconds produce_timeout{5'000};
  std::vector<std::string> cors_origins;  // "*" for any
  MissBudget::Options misses;             // reads of unknown titles (miss_budget.hpp)
  double ip_rate = 200, ip_burst = 400, user_rate = 50, user_burst = 100;
  std::size_t max_limit = 100;
  std::string demo_page;        // HTML served at GET /demo when not empty
  std::string redis_url;        // users' notification histories (empty: /api/notifications answers 404)
  MigrationSettings migration;  // in front of a legacy back end when migration.legacy.url is set
};

/// What the API needs from the rest of the process.
struct ApiParts {
  TitleCatalog& catalog;
  EventWriter& writer;
  SyncReplies& replies;
  LiveHub& hub;
  prometheus::Registry* registry = nullptr;
  std::function<bool()> catalog_ready;
  std::function<std::int64_t()> catalog_lag;
  NotificationStore* notifications = nullptr;  // null: no --redis-url
};

class Api {
public:
  Api(ApiSettings settings, ApiParts parts);
  ~Api();

  /// Synchronous: the answer, whatever it waits on (Kafka, Redis, the legacy).
  HttpResponse handle(const HttpRequest& request);
  /// The server's entry (api_dispatch.cpp): on an I/O thread, nothing that may wait runs - it is
  /// RunBlocking, or ToLegacy for the session to proxy asynchronously; on the blocking pool
  /// (on_io_thread false) never RunBlocking.
  Dispatch dispatch(const HttpRequest& request, bool on_io_thread);
  /// Asks the legacy for a request dispatch gave it; done runs on executor with the answer (CORS
  /// headers added, counted, maybe shadowed). request's views must live until then.
  void proxy(const boost::asio::any_io_executor& executor, const HttpRequest& request, ToLegacy ticket,
             std::function<void(HttpResponse)> done);
  /// Closes the idle connections to the legacy (the server's I/O context is going).
  void close_legacy_connections();
  /// True for requests the edge answers itself that may wait on Kafka, Redis or the back end (a sync
  /// with ?wait=, an unknown title id, a history read): the server runs those off its I/O threads.
  /// In front of the legacy back end, dispatch decides first (api_dispatch.cpp).
  bool may_block(const HttpRequest& request) const;
  /// A WebSocket upgrade's identity: the user of a valid token (?token= or Authorization), none
  /// for an anonymous connection, or the error response for a bad token.
  std::pair<std::optional<std::string>, std::optional<HttpResponse>> websocket_user(const HttpRequest& request);
  /// websocket_user may ask the back end (--auth-validate-url): the server runs it off its I/O threads.
  bool websocket_user_may_block() const { return users_->remote(); }
  /// CORS headers for this request's Origin (empty if it is not allowed).
  std::vector<std::pair<std::string, std::string>> cors_headers(std::string_view origin) const;
  /// True in front of a legacy back end: requests carry their forwardable headers.
  bool forwards_headers() const { return migration_ != nullptr; }
  /// Null without a registry.
  EdgeMetrics* metrics() { return metrics_.get(); }
  void count_refused_connection() {
    if (metrics_) metrics_->refused_connection();
  }

  static HttpResponse error(int status, std::string_view code, std::string_view detail);

private:
  // A request's bearer token, checked once against the service key (nullopt: none presented).
  using ServiceToken = std::optional<util::JwtResult>;
  HttpResponse route(const HttpRequest& request);
  ServiceToken service_token(const HttpRequest& request) const;
  HttpResponse with_cors(HttpResponse r, const HttpRequest& request) const;
  /// The edge's own answer (route() once the request is admitted and the edge is the side).
  HttpResponse serve(const HttpRequest& request, const ServiceToken& token);
  HttpResponse titles(const HttpRequest& request, std::string_view rest, bool v1);
  HttpResponse title(const HttpRequest& request, std::int64_t id, bool v1);
  /// A read of a title the catalog lacks: the entry once it arrives, or the response saying why not.
  std::variant<std::shared_ptr<const CatalogEntry>, HttpResponse> missing_title(const HttpRequest& request, std::int64_t id);
  HttpResponse internal(const HttpRequest& request, std::string_view path, const ServiceToken& token);
  HttpResponse sync_title(const HttpRequest& request, const util::JwtClaims& caller);
  HttpResponse cache_clear(const HttpRequest& request, const util::JwtClaims& caller);
  HttpResponse subscription(const HttpRequest& request, const util::JwtClaims& caller, bool subscribe);
  HttpResponse publish_notification(const HttpRequest& request, const util::JwtClaims& caller);
  // /api/notifications (api_notifications.cpp): a user's history, with the user's token.
  HttpResponse notifications(const HttpRequest& request, std::string_view path);
  HttpResponse notification_page(const HttpRequest& request, const std::string& user);
  /// The user a token names, or the response refusing it (401, or 503 when the back end does not answer).
  std::variant<std::string, HttpResponse> user_of(std::string_view token);
  HttpResponse stats();
  HttpResponse metrics_text();
  std::optional<HttpResponse> check_service_token(const HttpRequest& request, const ServiceToken& token, util::JwtClaims& claims);
  std::optional<HttpResponse> rate_limit(const HttpRequest& request, const ServiceToken& token);

  ApiSettings settings_;
  ApiParts parts_;
  RateLimiter per_ip_, per_user_;
  std::unique_ptr<UserTokens> users_;
  std::unique_ptr<EdgeMetrics> metrics_;
  mutable MissBudget miss_budget_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, requests_{0};
  std::unique_ptr<Migration> migration_;  // last: its shadow threads call serve()
};

using http::parse_query;

}  // namespace anipipe::edge
