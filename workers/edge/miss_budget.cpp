#include "miss_budget.hpp"

#include <algorithm>

namespace anipipe::edge {

using Clock = std::chrono::steady_clock;

struct MissBudget::Flight {
  bool done = false;
  Outcome outcome = Outcome::unavailable;
};

MissBudget::Ticket::~Ticket() {
  if (budget_) budget_->release(*this);
}

bool MissBudget::known_missing_locked(std::int64_t id, Clock::time_point now) {
  auto it = missing_until_.find(id);
  if (it == missing_until_.end()) return false;
  if (it->second > now) return true;
  missing_until_.erase(it);
  return false;
}

bool MissBudget::known_missing(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return known_missing_locked(id, Clock::now());
}

void MissBudget::forget(std::int64_t id) {
  std::lock_guard lock(mutex_);
  missing_until_.erase(id);
}

MissBudget::Ticket MissBudget::admit(std::int64_t id, const std::string& address) {
  Ticket t;
  std::lock_guard lock(mutex_);
  if (known_missing_locked(id, Clock::now())) {
    t.kind = Ticket::Kind::known_missing;
    return t;
  }
  auto& mine = per_address_[address];
  if (mine >= options_.per_address) {
    t.kind = Ticket::Kind::over_address;
    return t;
  }
  if (in_flight_ >= options_.total) {
    if (mine == 0) per_address_.erase(address);
    t.kind = Ticket::Kind::over_total;
    return t;
  }
  ++mine;
  ++in_flight_;
  t.budget_ = this;
  t.address_ = address;
  t.id_ = id;
  auto& flight = flights_[id];
  if (flight) {
    t.kind = Ticket::Kind::follower;
  } else {
    flight = std::make_shared<Flight>();
    t.kind = Ticket::Kind::leader;
  }
  t.flight_ = flight;
  return t;
}

void MissBudget::finish(Ticket& leader, Outcome outcome) {
  {
    std::lock_guard lock(mutex_);
    leader.flight_->done = true;
    leader.flight_->outcome = outcome;
    if (auto it = flights_.find(leader.id_); it != flights_.end() && it->second == leader.flight_) flights_.erase(it);
    if (outcome == Outcome::not_found) {
      if (missing_until_.size() >= options_.negative_max) {
        // Full: drop what has expired, and if that is not enough, start over (a flood of made-up ids).
        const auto now = Clock::now();
        std::erase_if(missing_until_, [&](const auto& e) { return e.second <= now; });
        if (missing_until_.size() >= options_.negative_max) missing_until_.clear();
      }
      missing_until_[leader.id_] = Clock::now() + options_.negative_ttl;
    }
  }
  finished_.notify_all();
}

std::optional<MissBudget::Outcome> MissBudget::wait(Ticket& follower, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!finished_.wait_for(lock, timeout, [&] { return follower.flight_->done; })) return std::nullopt;
  return follower.flight_->outcome;
}

void MissBudget::release(Ticket& t) {
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    if (auto it = per_address_.find(t.address_); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    // A leader that never finished (it threw): its followers must not wait for nothing.
    if (t.kind == Ticket::Kind::leader && !t.flight_->done) {
      t.flight_->done = true;
      if (auto it = flights_.find(t.id_); it != flights_.end() && it->second == t.flight_) flights_.erase(it);
    }
  }
  finished_.notify_all();
  t.budget_ = nullptr;
}

}  // namespace anipipe::edge
