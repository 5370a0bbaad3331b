#pragma once
// Reads of a title the catalog does not have. Each costs a sync request and a wait for its
// answer on a blocking thread, and strangers can make up ids for nothing; so:
//  - a recent "not found" is remembered (negative cache, --miss-negative-ttl-ms) and answered at
//    once, without Kafka;
//  - concurrent reads of one id share one sync (the first is the leader, the rest follow it);
//  - at most --miss-per-address misses of one address and --miss-total in all are in flight;
//    beyond that a read is refused at once (429 for the address, 503 for the edge), never queued
//    behind the others - the blocking threads stay free for the internal API.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace anipipe::edge {

class MissBudget {
public:
  struct Options {
    std::size_t per_address = 2;
    std::size_t total = 8;
    std::chrono::milliseconds negative_ttl{60'000};
    std::size_t negative_max = 100'000;
  };
  enum class Outcome { found, not_found, unavailable };
  struct Flight;

  /// A read's place: leader (run the sync, then finish()), follower (wait()), or refused.
  class Ticket {
  public:
    enum class Kind { leader, follower, known_missing, over_address, over_total };
    Kind kind = Kind::over_total;
    Ticket() = default;
    Ticket(Ticket&& o) noexcept
        : kind(o.kind), budget_(std::exchange(o.budget_, nullptr)), address_(std::move(o.address_)), id_(o.id_),
          flight_(std::move(o.flight_)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

  private:
    friend class MissBudget;
    MissBudget* budget_ = nullptr;
    std::string address_;
    std::int64_t id_ = 0;
    std::shared_ptr<Flight> flight_;
  };

  explicit MissBudget(Options options) : options_(options) {}

  Ticket admit(std::int64_t id, const std::string& address);
  /// The leader's outcome, for its followers; not_found is remembered for negative_ttl.
  void finish(Ticket& leader, Outcome outcome);
  /// A follower waits for its leader (at most timeout); nullopt if it did not finish in time.
  std::optional<Outcome> wait(Ticket& follower, std::chrono::milliseconds timeout);
  bool known_missing(std::int64_t id);
  /// A title that appeared (or was synced) is no longer missing.
  void forget(std::int64_t id);

private:
  void release(Ticket& t);
  bool known_missing_locked(std::int64_t id, std::chrono::steady_clock::time_point now);

  Options options_;
  std::mutex mutex_;
  std::condition_variable finished_;
  std::size_t in_flight_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
  std::map<std::int64_t, std::shared_ptr<Flight>> flights_;
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> missing_until_;
};

}  // namespace anipipe::edge
