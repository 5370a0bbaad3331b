#include "feature_flags.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace anipipe::edge;

TEST_CASE("FNV-1a 64: the published test vectors") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("the seed's flag decision: global disabled first, then the user's key, then the percentage, then global enabled") {
  CHECK_FALSE(flag_decision("f", "u1", true, {"disabled", "enabled", "100"}));
  CHECK(flag_decision("f", "u1", true, {std::nullopt, "enabled", "0"}));
  CHECK_FALSE(flag_decision("f", "u1", true, {"enabled", "disabled", std::nullopt}));
  CHECK(flag_decision("f", "u1", true, {"enabled", std::nullopt, std::nullopt}));
  CHECK_FALSE(flag_decision("f", "u1", true, {}));
  CHECK_FALSE(flag_decision("f", "u1", true, {"enabled", std::nullopt, "0"}));  // a percentage outranks global enabled
  CHECK(flag_decision("f", "u1", true, {std::nullopt, std::nullopt, "100"}));
  CHECK_FALSE(flag_decision("f", "u1", true, {std::nullopt, std::nullopt, "ten"}));
  // An anonymous client has no user key: it is never consulted.
  CHECK_FALSE(flag_decision("f", "10.0.0.1", false, {std::nullopt, "enabled", "0"}));
}

TEST_CASE("percentages: the share is about right, and whoever is in at 10 % is in at 25 % and 50 %") {
  int in10 = 0, in25 = 0, in50 = 0;
  for (int i = 0; i < 10'000; ++i) {
    const auto who = "user-" + std::to_string(i);
    const bool a = flag_decision("anipipe_titles", who, true, {std::nullopt, std::nullopt, "10"});
    const bool b = flag_decision("anipipe_titles", who, true, {std::nullopt, std::nullopt, "25"});
    const bool c = flag_decision("anipipe_titles", who, true, {std::nullopt, std::nullopt, "50"});
    CHECK((!a || b));
    CHECK((!b || c));
    in10 += a;
    in25 += b;
    in50 += c;
  }
  CHECK(in10 > 900);
  CHECK(in10 < 1100);
  CHECK(in25 > 2300);
  CHECK(in25 < 2700);
  CHECK(in50 > 4700);
  CHECK(in50 < 5300);
}

TEST_CASE("Redis down: the legacy side at once (no cached answer), and Redis left alone for a while after a failure") {
  // A port nothing listens on: connections are refused at once.
  FlagSettings settings;
  settings.redis_url = "redis://127.0.0.1:1/0";
  FeatureFlags flags(settings, nullptr);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) CHECK_FALSE(flags.enabled("anipipe_titles", i % 2 ? "user-1" : "", "10.0.0.1"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(500));
  settings.redis_url = "redis://127.0.0.1:not-a-port";
  CHECK_THROWS_AS(FeatureFlags(settings, nullptr), std::invalid_argument);
}
