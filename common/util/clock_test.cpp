#include <doctest/doctest.h>

#include "util/clock.hpp"

TEST_CASE("RFC 3339 parsing round-trips and refuses garbage") {
  using anipipe::util::parse_rfc3339;
  using anipipe::util::to_rfc3339;
  auto t = parse_rfc3339("2025-01-16T08:17:44+00:00");
  REQUIRE(t);
  CHECK(to_rfc3339(*t) == "2025-01-16T08:17:44.000Z");
  CHECK(to_rfc3339(*parse_rfc3339("2025-01-16T11:17:44.5+03:00")) == "2025-01-16T08:17:44.500Z");
  CHECK(to_rfc3339(*parse_rfc3339("2025-01-16T08:17:44.123456Z")) == "2025-01-16T08:17:44.123Z");
  CHECK(to_rfc3339(*parse_rfc3339("2025-01-16t02:47:44.07-05:30")) == "2025-01-16T08:17:44.070Z");
  CHECK(to_rfc3339(*parse_rfc3339("2024-02-29 23:59:60z")) == "2024-03-01T00:00:00.000Z");
  for (const char* bad : {"", "yesterday", "2025-01-16", "2025-01-16T08:17:44", "2025-13-01T00:00:00Z", "2025-01-16T08:17:44Zx",
                          "2025-01-16T08:17:44.Z", "2025-01-16T24:00:00Z", "2025-01-16T08:17:44+0300"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}
