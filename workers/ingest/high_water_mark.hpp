#pragma once
// How far ingest's view of the upstream reaches: the newest freshness (fresh_at, else updated_at)
// among the v1 releases it has published. A poll sees only the latest --v1-limit releases; when
// ingest may have missed what lies beyond them (it was down, a poll failed, a whole page was newer
// than the mark), it pages back through the catalog until it meets the mark again (V1Poller's
// catch-up). Recalled at start from the events ingest published - the topic is the cursor, as for
// the dedupe ids - so a restart knows where it stopped.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace anipipe::ingest {

class HighWaterMark {
public:
  using Time = std::chrono::system_clock::time_point;

  /// An event ingest published (anilibria.upstream.events value): its title's freshness counts.
  void observe_event(std::string_view event_json);
  /// A release's freshness; a value that is not RFC 3339 is ignored.
  void observe(std::optional<Time> freshness);
  std::optional<Time> get() const { return mark_; }
  /// RFC 3339, or "none".
  std::string to_string() const;

  /// The freshness of a v1 release object as the upstream sends it (fresh_at, else updated_at).
  static std::optional<Time> freshness_of(simdjson::dom::element release);
  static std::optional<Time> freshness_of_release(std::string_view release_json);

private:
  std::optional<Time> mark_;
};

}  // namespace anipipe::ingest
