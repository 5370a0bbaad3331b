#pragma once
// The one retry/backoff policy: exponential with full jitter ("Exponential Backoff And Jitter",
// AWS Architecture Blog), so many workers retrying the same outage do not synchronize.
#include <algorithm>
#include <chrono>
#include <random>

namespace anipipe::util {

struct Backoff {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2.0;

  /// The ceiling for attempt n (1-based), without jitter.
  std::chrono::milliseconds ceiling(int attempt) const {
    double ms = static_cast<double>(initial.count());
    for (int i = 1; i < attempt && ms < static_cast<double>(max.count()); ++i) ms *= multiplier;
    return std::chrono::milliseconds(static_cast<long long>(std::min(ms, static_cast<double>(max.count()))));
  }
  /// A delay drawn uniformly from [ceiling/2, ceiling]: jittered, yet never collapsing to zero.
  std::chrono::milliseconds delay(int attempt) const {
    thread_local std::mt19937 rng{std::random_device{}()};
    const auto c = ceiling(attempt).count();
    std::uniform_int_distribution<long long> d(c / 2, c);
    return std::chrono::milliseconds(d(rng));
  }
};

}  // namespace anipipe::util
