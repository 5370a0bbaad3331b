#include <doctest/doctest.h>

#include "http/circuit_breaker.hpp"

using anipipe::http::CircuitBreaker;
using namespace std::chrono_literals;

TEST_CASE("opens after five consecutive failures, half-opens after the wait, closes on a good trial") {
  CircuitBreaker b(5, 30s);
  auto t = CircuitBreaker::Clock::now();
  for (int i = 0; i < 4; ++i) {
    CHECK(b.allow(t));
    b.on_failure(t);
  }
  CHECK(b.state(t) == CircuitBreaker::State::closed);
  b.on_failure(t);
  CHECK(b.state(t) == CircuitBreaker::State::open);
  CHECK_FALSE(b.allow(t + 29s));
  CHECK(b.retry_in(t + 20s) == 10s);
  CHECK(b.allow(t + 30s));        // the one trial
  CHECK_FALSE(b.allow(t + 30s));  // no second one while it runs
  b.on_success();
  CHECK(b.state(t + 30s) == CircuitBreaker::State::closed);
  CHECK(b.allow(t + 30s));
}

TEST_CASE("a failed trial opens it again for the full wait, a success resets the count") {
  CircuitBreaker b(2, 10s);
  auto t = CircuitBreaker::Clock::now();
  b.on_failure(t);
  b.on_success();
  b.on_failure(t);
  CHECK(b.state(t) == CircuitBreaker::State::closed);
  b.on_failure(t);
  CHECK(b.state(t) == CircuitBreaker::State::open);
  CHECK(b.allow(t + 10s));
  b.on_failure(t + 10s);
  CHECK(b.state(t + 19s) == CircuitBreaker::State::open);
  CHECK(b.state(t + 20s) == CircuitBreaker::State::half_open);
}
