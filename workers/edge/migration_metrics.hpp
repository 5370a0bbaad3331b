#pragma once
// What the edge counts while it stands in front of the legacy back end: per route and side (edge,
// legacy) the requests by status class and their latency, for the canary's criteria (p95 < 500 ms,
// errors < 0.1 % per side); and the shadow comparisons by outcome and the fields that differed.
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace anipipe::edge {

class MigrationMetrics {
public:
  explicit MigrationMetrics(prometheus::Registry& registry);
  void served(std::string_view route, std::string_view side, int status, double seconds);
  /// outcome: match, mismatch, error (a side did not answer), dropped (the queue was full).
  void compared(std::string_view route, std::string_view outcome);
  /// field: a normalized path; past 200 distinct ones, "other" (bounded label values).
  void mismatch(std::string_view route, const std::string& field);

private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& comparisons_;
  prometheus::Family<prometheus::Counter>& mismatches_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> fields_;
};

}  // namespace anipipe::edge
