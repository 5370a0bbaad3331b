#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace anipipe::edge {

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_keys)
    : rate_(rate), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {}

void RateLimiter::sweep(Clock::time_point now) {
  // A bucket that has been idle long enough to be full again carries no information.
  const auto refill = std::chrono::duration<double>(burst_ / rate_);
  for (auto it = buckets_.begin(); it != buckets_.end();) it = now - it->second.updated >= refill ? buckets_.erase(it) : std::next(it);
}

std::chrono::milliseconds RateLimiter::acquire(std::string_view key, Clock::time_point now) {
  if (rate_ <= 0) return std::chrono::milliseconds(0);
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) sweep(now);
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  auto& b = it->second;
  b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.updated).count() * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::chrono::milliseconds(0);
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000)));
}

}  // namespace anipipe::edge
