#include <doctest/doctest.h>

#include "high_water_mark.hpp"
#include "reconcile_sweep.hpp"

using anipipe::ingest::HighWaterMark;
using namespace std::chrono_literals;

namespace {
std::string event(const std::string& api, const std::string& fresh_at, const std::string& updated_at = "null") {
  return R"({"event_id":"0123456789abcdef0123456789abcdef","observed_at":"2026-12-02T10:00:00Z","source":{"api":")" + api +
         R"("},"kind":"release_changed","title_id":1,"title":{"id":1,"alias":"a","fresh_at":)" + fresh_at + R"(,"updated_at":)" +
         updated_at + "}}";
}
}  // namespace

TEST_CASE("the high-water mark is the newest freshness among the v1 releases published") {
  HighWaterMark mark;
  CHECK(mark.to_string() == "none");
  mark.observe_event(event("v1", R"("2026-12-01T10:00:00+00:00")"));
  mark.observe_event(event("v1", R"("2026-12-02T09:00:00+00:00")"));
  mark.observe_event(event("v1", R"("2026-11-30T10:00:00+00:00")"));  // older: no effect
  CHECK(mark.to_string() == "2026-12-02T09:00:00.000Z");
  // The v3 WebSocket's and replays' clocks say nothing about how far the polls reached.
  mark.observe_event(event("v3", R"("2027-01-01T00:00:00+00:00")"));
  mark.observe_event(event("replay", R"("2027-01-01T00:00:00+00:00")"));
  CHECK(mark.to_string() == "2026-12-02T09:00:00.000Z");
  // updated_at stands in for a missing fresh_at; garbage and events without a title are ignored.
  mark.observe_event(event("v1", "null", R"("2026-12-02T09:30:00+00:00")"));
  CHECK(mark.to_string() == "2026-12-02T09:30:00.000Z");
  mark.observe_event(event("v1", R"("yesterday")"));
  mark.observe_event(R"({"source":{"api":"v1"},"kind":"episode_published"})");
  mark.observe_event("not json");
  CHECK(mark.to_string() == "2026-12-02T09:30:00.000Z");
  CHECK(HighWaterMark::freshness_of_release(R"({"id":9,"fresh_at":"2026-12-02T11:00:00+00:00"})").has_value());
}

TEST_CASE("sweep intervals: units, plain seconds, zero for off, and a clear error otherwise") {
  using anipipe::ingest::parse_interval;
  CHECK(parse_interval("6h") == 6h);
  CHECK(parse_interval("30m") == 30min);
  CHECK(parse_interval("90s") == 90s);
  CHECK(parse_interval("90") == 90s);
  CHECK(parse_interval("1500ms") == 1500ms);
  CHECK(parse_interval("1d") == 24h);
  CHECK(parse_interval("0") == 0ms);
  CHECK(parse_interval("0.5h") == 30min);
  CHECK_THROWS_WITH(parse_interval("soon"), doctest::Contains("not an interval"));
  CHECK_THROWS_WITH(parse_interval("5 weeks"), doctest::Contains("units"));
  CHECK_THROWS(parse_interval("-1h"));
  CHECK_THROWS(parse_interval(""));
}
