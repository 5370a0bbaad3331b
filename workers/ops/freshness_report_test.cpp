#include <doctest/doctest.h>

#include <limits>

#include "freshness_report.hpp"

using anipipe::ops::bucket_quantile;
using anipipe::ops::summarize_freshness;

TEST_CASE("freshness: buckets summed over processes per stage, quantiles as histogram_quantile estimates them") {
  const std::string sync = R"(# HELP anipipe_freshness_seconds From an upstream change's observation
# TYPE anipipe_freshness_seconds histogram
anipipe_freshness_seconds_count{stage="catalog"} 10
anipipe_freshness_seconds_sum{stage="catalog"} 12.5
anipipe_freshness_seconds_bucket{stage="catalog",le="0.5"} 2
anipipe_freshness_seconds_bucket{stage="catalog",le="1"} 6
anipipe_freshness_seconds_bucket{stage="catalog",le="2"} 10
anipipe_freshness_seconds_bucket{stage="catalog",le="+Inf"} 10
anipipe_records_in_total{topic="anilibria.titles"} 99
)";
  // A second sync process: its observations add to the first's.
  const std::string sync2 = R"(anipipe_freshness_seconds_count{stage="catalog"} 10
anipipe_freshness_seconds_sum{stage="catalog"} 7.5
anipipe_freshness_seconds_bucket{stage="catalog",le="0.5"} 8
anipipe_freshness_seconds_bucket{stage="catalog",le="1"} 10
anipipe_freshness_seconds_bucket{stage="catalog",le="2"} 10
anipipe_freshness_seconds_bucket{stage="catalog",le="+Inf"} 10
anipipe_freshness_seconds_count{stage="webhook"} 0
anipipe_freshness_seconds_sum{stage="webhook"} 0
anipipe_freshness_seconds_bucket{stage="webhook",le="1"} 0
anipipe_freshness_seconds_bucket{stage="webhook",le="+Inf"} 0
)";
  const auto stages = summarize_freshness({sync, sync2});
  REQUIRE(stages.size() == 2);
  CHECK(stages[0].stage == "catalog");
  CHECK(stages[0].count == 20);
  CHECK(stages[0].sum == doctest::Approx(20.0));
  // 20 observations: 10 at or below 0.5 s, 16 at or below 1 s, 20 at or below 2 s.
  CHECK(stages[0].p50 == doctest::Approx(0.5));
  CHECK(stages[0].p95 == doctest::Approx(1.0 + 1.0 * (19.0 - 16.0) / 4.0));
  CHECK(stages[1].stage == "webhook");
  CHECK(stages[1].count == 0);
  CHECK(stages[1].p99 == 0);
}

TEST_CASE("freshness: a quantile in the open-ended bucket is its lower bound, and empty buckets give 0") {
  CHECK(bucket_quantile(0.99, {{1.0, 1}, {std::numeric_limits<double>::infinity(), 10}}) == doctest::Approx(1.0));
  CHECK(bucket_quantile(0.5, {}) == 0);
  CHECK(bucket_quantile(0.5, {{1.0, 0}, {std::numeric_limits<double>::infinity(), 0}}) == 0);
  CHECK(bucket_quantile(0.5, {{2.0, 4}, {std::numeric_limits<double>::infinity(), 4}}) == doctest::Approx(1.0));
}
