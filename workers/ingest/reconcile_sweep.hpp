#pragma once
// Anti-entropy: a slow pass over the whole upstream catalog that publishes one "reconcile"
// observation per title, so that sync fetches each full release and repairs whatever drifted - a
// change no poll showed (an upstream edit that did not touch fresh_at, an episode beyond the
// catch-up's reach), a title the catalog never had (taken in quietly: its history is not news), a
// title the upstream removed (the titles the catalog has and the walk did not meet are observed
// too: sync's fetch answers 404 and the catalog drops them). Nothing is announced twice because
// of it: sync announces an episode once per (title, ordinal).
//
// The walk goes oldest first (f[sorting]=FRESH_AT_ASC): a release refreshed during the walk moves
// to its end and is met again, never skipped. Observations are paced (--reconcile-rate titles/s),
// since each costs sync one upstream call. ingest runs a sweep every --reconcile-interval;
// `anipipe-ops reconcile` runs one now, or for the titles it names.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "event_publisher.hpp"
#include "http/client.hpp"
#include "kafka/settings.hpp"
#include "topic_names.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace anipipe::ingest {

struct SweepOptions {
  /// The catalog (anilibria.titles), whose titles the walk did not meet are observed too; empty: skip that.
  std::string titles_topic = topic_names::kTitles;
  double titles_per_second = 20;
  int page_size = 50;
  int max_pages = 10'000;
  /// Who runs it, in the sweep's id ("<started>/<who>").
  std::string who = "ingest";
};

struct SweepResult {
  bool complete = false;  // walked to the end (a sweep cut short observes no catalog-only titles)
  std::string error;
  int pages = 0;
  std::size_t upstream_titles = 0;
  std::size_t catalog_only = 0;  // in the catalog, not met upstream
  std::size_t published = 0;     // observations published
  double seconds = 0;
  std::string sweep_id;
  /// One JSON line for logs and the ops CLI.
  std::string to_json() const;
};

class ReconcileSweep {
public:
  ReconcileSweep(SweepOptions options, http::Client& client, EventPublisher& publisher, kafka::Settings kafka,
                 prometheus::Registry* metrics);

  /// The whole upstream catalog, then the catalog's titles it did not meet.
  SweepResult run(const std::atomic<bool>& stop);
  /// Just these titles (no upstream call: sync fetches each).
  SweepResult run_titles(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop);

private:
  void observe(std::int64_t id, const std::string& sweep_id, SweepResult& r, const std::atomic<bool>& stop);
  static std::string new_sweep_id(const std::string& who);

  SweepOptions options_;
  http::Client& client_;
  EventPublisher& publisher_;
  kafka::Settings kafka_;
  std::chrono::steady_clock::time_point next_at_{};
  // Null without a registry (the ops CLI).
  prometheus::Counter* upstream_titles_ = nullptr;
  prometheus::Counter* catalog_only_titles_ = nullptr;
  prometheus::Counter* complete_ = nullptr;
  prometheus::Counter* incomplete_ = nullptr;
  prometheus::Gauge* last_complete_ = nullptr;
};

/// "6h", "30m", "90s", "1500ms", a plain number of seconds, or "0" (off).
std::chrono::milliseconds parse_interval(const std::string& text);

}  // namespace anipipe::ingest
