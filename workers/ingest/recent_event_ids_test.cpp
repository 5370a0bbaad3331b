#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "recent_event_ids.hpp"

using anipipe::ingest::RecentEventIds;

namespace {
std::string id_of(std::uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ULL),
                static_cast<unsigned long long>(n + 1));
  return buf;
}
}  // namespace

TEST_CASE("an id is new once, and known until it is the oldest of more than the capacity") {
  RecentEventIds ids(3);
  CHECK(ids.insert(id_of(1)));
  CHECK_FALSE(ids.insert(id_of(1)));
  CHECK(ids.insert(id_of(2)));
  CHECK(ids.insert(id_of(3)));
  CHECK(ids.size() == 3);
  CHECK(ids.insert(id_of(4)));  // forgets 1
  CHECK(ids.size() == 3);
  CHECK_FALSE(ids.contains(id_of(1)));
  CHECK(ids.contains(id_of(2)));
  CHECK(ids.insert(id_of(1)));
}

TEST_CASE("an erased id (its event was not delivered) is new again") {
  RecentEventIds ids(10);
  CHECK(ids.insert(id_of(7)));
  ids.erase(id_of(7));
  CHECK_FALSE(ids.contains(id_of(7)));
  CHECK(ids.insert(id_of(7)));
}

TEST_CASE("what is not a 32-digit lower-case hex id is never deduplicated") {
  RecentEventIds ids(10);
  // "\377123...": a 0xff byte, then 31 hex digits.
  for (const char* bad :
       {"", "abc", "0123456789ABCDEF0123456789abcdef", "00000000000000000000000000000000", "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef 123456789abcdef", "\377123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcde/"}) {
    CHECK(ids.insert(bad));
    CHECK(ids.insert(bad));
  }
  CHECK(ids.size() == 0);
}

TEST_CASE("under random inserts, erases and evictions the table agrees with a plain set") {
  // Few distinct ids in a small table: long probe runs, wrap-around and backward shifts.
  constexpr std::size_t capacity = 50;
  RecentEventIds ids(capacity);
  std::set<std::string> known;
  std::vector<std::string> order;  // insertion order of the ids still counted by the ring
  std::mt19937 rng(3);
  for (int step = 0; step < 20'000; ++step) {
    const std::string id = id_of(rng() % 120);
    if (rng() % 5 == 0) {
      ids.erase(id);
      known.erase(id);
    } else {
      const bool fresh = known.count(id) == 0;
      REQUIRE(ids.insert(id) == fresh);
      if (fresh) {
        order.push_back(id);
        if (order.size() > capacity) {
          known.erase(order.front());
          order.erase(order.begin());
        }
        known.insert(id);
      }
    }
    REQUIRE(ids.size() == known.size());
  }
  for (int n = 0; n < 120; ++n) CHECK(ids.contains(id_of(n)) == (known.count(id_of(n)) == 1));
}
