#include "http/circuit_breaker.hpp"

namespace anipipe::http {

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  if (!open_) return State::closed;
  return now - opened_at_ >= open_for_ ? State::half_open : State::open;
}

bool CircuitBreaker::allow(Clock::time_point now) {
  switch (state(now)) {
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
  failures_ = 0;
  open_ = false;
  trial_in_flight_ = false;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  trial_in_flight_ = false;
  if (open_ || ++failures_ >= threshold_) {
    open_ = true;
    opened_at_ = now;
  }
}

std::chrono::milliseconds CircuitBreaker::retry_in(Clock::time_point now) const {
  if (state(now) != State::open) return std::chrono::milliseconds(0);
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
