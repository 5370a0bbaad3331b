#pragma once
// Token buckets per key (client IP, user): `rate` requests per second sustained, bursts up to
// `burst`. A refused request learns when a token will be there (Retry-After). Idle buckets are
// swept so a scan of many addresses cannot grow memory without bound.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace anipipe::edge {

class RateLimiter {
public:
  using Clock = std::chrono::steady_clock;
  /// rate <= 0 turns the limiter off.
  RateLimiter(double rate, double burst, std::size_t max_keys = 100'000);

  /// Takes a token for key; nullopt-like zero when allowed, else how long until one is there.
  std::chrono::milliseconds acquire(std::string_view key, Clock::time_point now = Clock::now());
  bool enabled() const { return rate_ > 0; }

private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated{};
  };
  void sweep(Clock::time_point now);

  double rate_, burst_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace anipipe::edge
