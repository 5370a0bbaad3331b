#pragma once
// The edge in front of the legacy back end (--legacy-url; docs/migration.md). Per request:
//  - /health, /ready, /metrics, /demo, /internal/*, the WebSocket path, /api/notifications*: always the edge's;
//  - a route family the edge has (titles: GET/HEAD of the v1 and v2 lists and titles): the edge's
//    if the family's flag is on for this user (FeatureFlags), else the legacy's;
//  - anything else (a route the edge lacks): the legacy's, unchanged (AsyncProxy on the I/O threads;
//    LegacyProxy, synchronous, where a thread may wait: Api::handle and the shadow).
// A sampled share (--shadow-percent) of a family's GETs is also asked of the other side in the
// background (ShadowRunner); the two answers are compared (shadow_diff.hpp), mismatches counted
// per field, logged (at most one line a second) and 1 in N produced to anilibria.shadow_diffs. The
// shadow never delays or fails the real answer: a full queue drops it.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "async_proxy.hpp"
#include "event_writer.hpp"
#include "feature_flags.hpp"
#include "http_api.hpp"
#include "legacy_proxy.hpp"
#include "migration_metrics.hpp"
#include "migration_settings.hpp"
#include "shadow_runner.hpp"

namespace anipipe::edge {

class Migration {
public:
  using Serve = std::function<HttpResponse(const HttpRequest&)>;
  /// The user a request's token names, if the edge already knows it ("" otherwise).
  using KnownUser = std::function<std::string(const HttpRequest&)>;

  Migration(const MigrationSettings& settings, EventWriter& writer, prometheus::Registry* registry, Serve edge, KnownUser user);
  ~Migration();

  enum class Side { edge, legacy };

  /// Paths the edge answers itself whatever the flags say.
  static bool edge_only(std::string_view path);
  /// Who serves this request; nullopt when only a read from Redis can say and read_flags is false.
  std::optional<Side> side(const HttpRequest& request, std::string_view path, bool read_flags);
  /// Counts a side's answer and samples it for the shadow comparison.
  void served(const HttpRequest& request, std::string_view path, Side side, const HttpResponse& response,
              std::chrono::steady_clock::time_point started);
  AsyncProxy& async_legacy() { return async_legacy_; }

private:
  struct Shadow;
  void shadow(const HttpRequest& request, std::string_view route, bool served_by_edge, const HttpResponse& served);
  void compare(const Shadow& s, const HttpResponse& other);
  void report(const Shadow& s, const HttpResponse& edge, const HttpResponse& legacy, const std::vector<FieldDifference>& differences);

  MigrationSettings settings_;
  EventWriter& writer_;
  Serve edge_;
  KnownUser user_;
  std::shared_ptr<http::CircuitBreaker> breaker_;  // the legacy's, one for both proxies
  LegacyProxy legacy_;
  AsyncProxy async_legacy_;
  std::unique_ptr<FeatureFlags> flags_;
  std::unique_ptr<MigrationMetrics> metrics_;
  std::atomic<std::uint64_t> mismatches_{0};
  std::mutex log_mutex_;
  std::chrono::steady_clock::time_point last_log_{};
  std::unique_ptr<ShadowRunner> runner_;  // last: its threads stop before what they use goes
};

}  // namespace anipipe::edge
