#pragma once
// The event ids ingest announced recently: a bounded set (oldest forgotten first). A re-poll,
// a reconnect or a replay of something already announced is recognised here and dropped. At
// start it is refilled from the tail of anilibria.upstream.events, so a restart does not
// re-announce the feed (the topic is the cursor; there is no other state to lose).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <deque>
#include <string_view>
#include <unordered_set>

#include "kafka/settings.hpp"

namespace anipipe::ingest {

class RecentEventIds {
public:
  explicit RecentEventIds(std::size_t capacity) : capacity_(capacity) { set_.reserve(std::min<std::size_t>(capacity, 1u << 20)); }
  /// True if the id was not known (and is now).
  bool insert(std::string_view event_id);
  bool contains(std::string_view event_id) const;
  void erase(std::string_view event_id);
  std::size_t size() const { return set_.size(); }

  /// Loads the ids of the last `per_partition` events of every partition of `topic`; returns how many.
  std::size_t recall(const kafka::Settings& settings, const std::string& topic, std::int64_t per_partition);

private:
  struct Id {
    std::uint64_t hi = 0, lo = 0;
    bool operator==(const Id&) const = default;
  };
  struct IdHash {
    std::size_t operator()(const Id& id) const noexcept { return static_cast<std::size_t>(id.hi ^ (id.lo * 0x9E3779B97F4A7C15ULL)); }
  };
  static bool parse(std::string_view hex, Id& out);

  std::size_t capacity_;
  std::unordered_set<Id, IdHash> set_;
  std::deque<Id> order_;
};

}  // namespace anipipe::ingest
