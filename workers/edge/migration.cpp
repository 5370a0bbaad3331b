#include "migration.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "api_support.hpp"
#include "edge_metrics.hpp"
#include "json/json_writer.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

using namespace std::chrono_literals;

/// A request and its real answer, copied for the background (the originals live in the connection).
struct Migration::Shadow {
  std::string route, method, target, authorization, client_ip;
  std::vector<std::pair<std::string, std::string>> forwarded;
  bool served_by_edge = false;
  HttpResponse served;

  HttpRequest view() const {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.authorization = authorization;
    r.client_ip = client_ip;
    for (const auto& [k, v] : forwarded) r.forwarded.emplace_back(k, v);
    return r;
  }
};

namespace {

bool titles_family(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return false;
  for (const auto base : {api::kV2, api::kV1})
    if (path.starts_with(base) && (path.size() == base.size() || path[base.size()] == '/')) return true;
  return false;
}

bool sampled(double percent) {
  if (percent <= 0) return false;
  thread_local std::mt19937_64 random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 100)(random) < percent;
}

}  // namespace

Migration::Migration(const MigrationSettings& settings, EventWriter& writer, prometheus::Registry* registry, Serve edge, KnownUser user)
    : settings_(settings), writer_(writer), edge_(std::move(edge)), user_(std::move(user)),
      breaker_(std::make_shared<http::CircuitBreaker>(5, std::chrono::seconds(5))), legacy_(settings.legacy, breaker_, registry),
      async_legacy_(settings.legacy, breaker_, registry) {
  if (!settings_.flags.redis_url.empty()) flags_ = std::make_unique<FeatureFlags>(settings_.flags, registry);
  if (registry) metrics_ = std::make_unique<MigrationMetrics>(*registry);
  if (settings_.shadow.percent > 0) runner_ = std::make_unique<ShadowRunner>(settings_.shadow.threads, settings_.shadow.queue_max);
  spdlog::info("in front of the legacy back end {}: titles by flag {} ({}), shadow {} %", settings_.legacy.url, settings_.flag_titles,
               flags_ ? "feature flags in Redis" : "no --redis-url: all to the legacy", settings_.shadow.percent);
}

Migration::~Migration() = default;

bool Migration::edge_only(std::string_view path) {
  return path == "/health" || path == "/ready" || path == "/metrics" || path == "/demo" || path.starts_with("/internal/") ||
         path.starts_with("/api/anilibria/v2/ws") || path == "/api/notifications" || path.starts_with("/api/notifications/");
}

std::optional<Migration::Side> Migration::side(const HttpRequest& request, std::string_view path, bool read_flags) {
  if (!flags_ || !titles_family(request.method, path)) return Side::legacy;
  const auto user = user_(request);
  const auto on = read_flags ? flags_->enabled(settings_.flag_titles, user, request.client_ip)
                             : flags_->cached(settings_.flag_titles, user, request.client_ip);
  if (!on) return std::nullopt;
  return *on ? Side::edge : Side::legacy;
}

void Migration::served(const HttpRequest& request, std::string_view path, Side side, const HttpResponse& response,
                       std::chrono::steady_clock::time_point started) {
  const auto route = EdgeMetrics::route_of(path);
  if (metrics_)
    metrics_->served(route, side == Side::edge ? "edge" : "legacy", response.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  // A 304 has no body to compare (and the other side would be asked without If-None-Match).
  if (titles_family(request.method, path) && request.method == "GET" && response.status != 304 && runner_ &&
      sampled(settings_.shadow.percent))
    shadow(request, route, side == Side::edge, response);
}

void Migration::shadow(const HttpRequest& request, std::string_view route, bool served_by_edge, const HttpResponse& served) {
  auto s = std::make_shared<Shadow>();
  s->route = route;
  s->method = request.method;
  s->target = request.target;
  s->authorization = request.authorization;
  s->client_ip = request.client_ip;
  for (const auto& [k, v] : request.forwarded)
    if (k != "If-None-Match") s->forwarded.emplace_back(k, v);
  s->served_by_edge = served_by_edge;
  s->served = served;
  const bool queued = runner_->submit([this, s] {
    try {
      const auto view = s->view();
      compare(*s, s->served_by_edge ? legacy_.forward(view) : edge_(view));
    } catch (const std::exception& e) {
      spdlog::warn("shadow of {} {}: {}", s->method, s->target, e.what());
      if (metrics_) metrics_->compared(s->route, "error");
    }
  });
  if (!queued && metrics_) metrics_->compared(route, "dropped");
}

void Migration::compare(const Shadow& s, const HttpResponse& other) {
  const auto& edge = s.served_by_edge ? s.served : other;
  const auto& legacy = s.served_by_edge ? other : s.served;
  std::vector<FieldDifference> differences;
  std::string_view outcome = "match";
  const auto failed = [](int status) { return status == 502 || status == 503 || status == 504; };
  if (failed(edge.status) || failed(legacy.status)) outcome = "error";
  else if (edge.status != legacy.status) differences.push_back({"(status)", std::to_string(edge.status), std::to_string(legacy.status)});
  else if (edge.status == 200) {
    auto c = compare_json(edge.body, legacy.body, settings_.shadow.rules);
    differences = std::move(c.differences);
    if (!c.error.empty()) differences.push_back({"(body)", c.error, ""});
  }
  if (outcome == "match" && !differences.empty()) outcome = "mismatch";
  if (metrics_) {
    metrics_->compared(s.route, outcome);
    for (const auto& d : differences) metrics_->mismatch(s.route, d.field);
  }
  if (!differences.empty()) report(s, edge, legacy, differences);
}

void Migration::report(const Shadow& s, const HttpResponse& edge, const HttpResponse& legacy,
                       const std::vector<FieldDifference>& differences) {
  {
    std::lock_guard lock(log_mutex_);
    if (std::chrono::steady_clock::now() - last_log_ >= 1s) {
      last_log_ = std::chrono::steady_clock::now();
      std::string diff;
      for (std::size_t i = 0; i < differences.size() && i < 5; ++i)
        diff += (i ? "; " : "") + differences[i].field + ": edge " + differences[i].edge + ", legacy " + differences[i].legacy;
      spdlog::warn("shadow mismatch {} {} (served by {}): {}{}", s.method, s.target, s.served_by_edge ? "edge" : "legacy", diff,
                   differences.size() > 5 ? " ..." : "");
    }
  }
  const auto n = ++mismatches_;
  if (settings_.shadow.diff_sample == 0 || (n - 1) % settings_.shadow.diff_sample != 0) return;
  std::string value;
  json::Writer w(value);
  w.begin_object()
      .field("route", s.route)
      .field("target", s.target)
      .field("served_by", s.served_by_edge ? "edge" : "legacy")
      .field("edge_status", static_cast<std::int64_t>(edge.status))
      .field("legacy_status", static_cast<std::int64_t>(legacy.status))
      .field("observed_at", util::now_unix_ms());
  w.key("differences").begin_array();
  for (const auto& d : differences) w.begin_object().field("field", d.field).field("edge", d.edge).field("legacy", d.legacy).end_object();
  w.end_array().end_object();
  const auto written = writer_.write(settings_.shadow.diffs_topic, topic_names::kShadowDiffs, s.route, std::move(value),
                                     kafka::EventHeaders::new_root("edge"));
  if (written.status != WriteOutcome::Status::written) spdlog::warn("shadow diff not produced: {}", written.detail);
}

}  // namespace anipipe::edge
