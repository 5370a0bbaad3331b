#include <doctest/doctest.h>

#include "rate_limiter.hpp"

using namespace anipipe::edge;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: a burst, then the sustained rate, per key") {
  RateLimiter limiter(10, 3);  // 10/s, bursts of 3
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.acquire("1.2.3.4", t0) == 0ms);
  const auto wait = limiter.acquire("1.2.3.4", t0);
  CHECK(wait == 100ms);                          // one token every 100 ms
  CHECK(limiter.acquire("5.6.7.8", t0) == 0ms);  // another key has its own bucket
  CHECK(limiter.acquire("1.2.3.4", t0 + 100ms) == 0ms);
  CHECK(limiter.acquire("1.2.3.4", t0 + 100ms) > 0ms);
  CHECK(limiter.acquire("1.2.3.4", t0 + 10s) == 0ms);  // refilled, but never above the burst
  CHECK(limiter.acquire("1.2.3.4", t0 + 10s) == 0ms);
  CHECK(limiter.acquire("1.2.3.4", t0 + 10s) == 0ms);
  CHECK(limiter.acquire("1.2.3.4", t0 + 10s) > 0ms);
}

TEST_CASE("rate limiter: off at rate 0, and bounded in keys") {
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) CHECK(off.acquire("x") == 0ms);
  RateLimiter small(1, 1, 10);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) small.acquire(std::to_string(i), t0 + std::chrono::seconds(i * 2));
  CHECK(small.acquire("999", t0 + std::chrono::seconds(1998)) > 0ms);  // its bucket survived the sweeps
}
