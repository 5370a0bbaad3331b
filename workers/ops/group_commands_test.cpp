#include <doctest/doctest.h>

#include "group_commands.hpp"

using anipipe::ops::parse_reset_target;
using Kind = anipipe::ops::ResetTarget::Kind;

TEST_CASE("reset targets: earliest, latest, an RFC 3339 time, nothing else") {
  CHECK(parse_reset_target("earliest")->kind == Kind::earliest);
  CHECK(parse_reset_target("latest")->kind == Kind::latest);
  auto t = parse_reset_target("2025-01-16T00:00:00Z");
  REQUIRE(t);
  CHECK(t->kind == Kind::time);
  CHECK(t->unix_ms == 1736985600000);
  CHECK_FALSE(parse_reset_target("yesterday"));
  CHECK_FALSE(parse_reset_target(""));
}
