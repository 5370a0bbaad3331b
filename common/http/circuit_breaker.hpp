#pragma once
// A circuit breaker for one upstream (docs/design.md, "Outages: retry, pause, circuit breaker"):
// after `failure_threshold` consecutive failures it opens and refuses calls for `open_for`; then
// one trial call is let through (half-open): success closes it, failure opens it again. Time is
// passed in, so the state machine is unit-tested without sleeping. Thread-safe: a pool of clients
// to one upstream shares one breaker (ClientOptions::shared_breaker), so the upstream is judged
// as a whole.
#include <chrono>
#include <mutex>
#include <string_view>

namespace anipipe::http {

class CircuitBreaker {
public:
  using Clock = std::chrono::steady_clock;
  enum class State { closed, open, half_open };

  explicit CircuitBreaker(int failure_threshold = 5, std::chrono::milliseconds open_for = std::chrono::seconds(30))
      : threshold_(failure_threshold), open_for_(open_for) {}

  /// May a call go out now? In half-open state only one trial call is allowed at a time.
  bool allow(Clock::time_point now = Clock::now());
  void on_success();
  void on_failure(Clock::time_point now = Clock::now());
  State state(Clock::time_point now = Clock::now()) const;
  /// How long until a call may go out (0 if now).
  std::chrono::milliseconds retry_in(Clock::time_point now = Clock::now()) const;

private:
  State state_locked(Clock::time_point now) const;

  mutable std::mutex mutex_;
  int threshold_;
  std::chrono::milliseconds open_for_;
  int failures_ = 0;
  bool open_ = false;
  bool trial_in_flight_ = false;
  Clock::time_point opened_at_{};
};

std::string_view to_string(CircuitBreaker::State s);

}  // namespace anipipe::http
