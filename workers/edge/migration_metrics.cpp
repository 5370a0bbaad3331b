#include "migration_metrics.hpp"

#include <algorithm>

namespace anipipe::edge {

namespace {
// Fine around the canary's 500 ms p95.
const prometheus::Histogram::BucketBoundaries kDuration{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
                                                        0.3,   0.4,    0.5,   0.75, 1,     2.5,  5,   10};
}  // namespace

MigrationMetrics::MigrationMetrics(prometheus::Registry& r)
    : requests_(prometheus::BuildCounter()
                    .Name("anipipe_edge_route_requests_total")
                    .Help("Requests in front of the legacy back end by route template, side that served them (edge, legacy) and status "
                          "class (2xx, 3xx, 4xx, 5xx)")
                    .Register(r)),
      duration_(prometheus::BuildHistogram()
                    .Name("anipipe_edge_route_duration_seconds")
                    .Help("Time to answer a request in front of the legacy back end, by route template and side")
                    .Register(r)),
      comparisons_(prometheus::BuildCounter()
                       .Name("anipipe_shadow_comparisons_total")
                       .Help("Shadow comparisons by route and outcome (match, mismatch, error, dropped)")
                       .Register(r)),
      mismatches_(prometheus::BuildCounter()
                      .Name("anipipe_shadow_mismatches_total")
                      .Help("Fields that differed between the edge's and the legacy's answer, by route and normalized path")
                      .Register(r)) {}

void MigrationMetrics::served(std::string_view route, std::string_view side, int status, double seconds) {
  static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  const auto status_class = kClasses[std::clamp(status / 100, 1, 5) - 1];
  requests_.Add({{"route", std::string(route)}, {"side", std::string(side)}, {"status_class", std::string(status_class)}}).Increment();
  duration_.Add({{"route", std::string(route)}, {"side", std::string(side)}}, kDuration).Observe(seconds);
}

void MigrationMetrics::compared(std::string_view route, std::string_view outcome) {
  comparisons_.Add({{"route", std::string(route)}, {"outcome", std::string(outcome)}}).Increment();
}

void MigrationMetrics::mismatch(std::string_view route, const std::string& field) {
  std::string label = field.empty() ? "(body)" : field;
  {
    std::lock_guard lock(mutex_);
    if (!fields_.contains(label)) {
      if (fields_.size() >= 200) label = "other";
      else fields_.insert(label);
    }
  }
  mismatches_.Add({{"route", std::string(route)}, {"field", label}}).Increment();
}

}  // namespace anipipe::edge
