#include "http/circuit_breaker.hpp"

namespace anipipe::http {

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return state_locked(now);
}

CircuitBreaker::State CircuitBreaker::state_locked(Clock::time_point now) const {
  if (!open_) return State::closed;
  return now - opened_at_ >= open_for_ ? State::half_open : State::open;
}

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_locked(now)) {
    case State::closed: return true;
    case State::open: return false;
    case State::half_open:
      if (trial_in_flight_) return false;
      trial_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::on_success() {
  std::lock_guard lock(mutex_);
  failures_ = 0;
  open_ = false;
  trial_in_flight_ = false;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  trial_in_flight_ = false;
  if (open_ || ++failures_ >= threshold_) {
    open_ = true;
    opened_at_ = now;
  }
}

std::chrono::milliseconds CircuitBreaker::retry_in(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_locked(now) != State::open) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(opened_at_ + open_for_ - now);
}

std::string_view to_string(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::closed: return "closed";
    case CircuitBreaker::State::open: return "open";
    case CircuitBreaker::State::half_open: return "half_open";
  }
  return "unknown";
}

}  // namespace anipipe::http
