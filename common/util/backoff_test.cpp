#include <doctest/doctest.h>

#include "util/backoff.hpp"

using namespace std::chrono_literals;

TEST_CASE("backoff ceiling grows exponentially and caps") {
  anipipe::util::Backoff b{100ms, 1000ms, 2.0};
  CHECK(b.ceiling(1) == 100ms);
  CHECK(b.ceiling(2) == 200ms);
  CHECK(b.ceiling(4) == 800ms);
  CHECK(b.ceiling(5) == 1000ms);
  CHECK(b.ceiling(1000) == 1000ms);
}

TEST_CASE("backoff delay is jittered within [ceiling/2, ceiling]") {
  anipipe::util::Backoff b{100ms, 1000ms, 2.0};
  bool varied = false;
  auto first = b.delay(3);
  for (int i = 0; i < 200; ++i) {
    auto d = b.delay(3);
    CHECK(d >= 200ms);
    CHECK(d <= 400ms);
    varied |= d != first;
  }
  CHECK(varied);
}
