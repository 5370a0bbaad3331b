#pragma once
// The event ids ingest announced recently: a bounded set (oldest forgotten first). A re-poll,
// a reconnect or a replay of something already announced is recognised here and dropped. At
// start it is refilled from the tail of anilibria.upstream.events, so a restart does not
// re-announce the feed (the topic is the cursor; there is no other state to lose).
// Every upstream message passes through insert(), so the set is flat: 128-bit ids in an
// open-addressing table (linear probing, backward-shift deletion) and a ring of insertion order.
// Both grow by doubling up to what the capacity needs, so a small feed keeps a small, cache-warm
// table, and nothing is allocated per id.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/settings.hpp"

namespace anipipe::ingest {

class RecentEventIds {
public:
  explicit RecentEventIds(std::size_t capacity);
  /// True if the id was not known (and is now).
  bool insert(std::string_view event_id);
  bool contains(std::string_view event_id) const;
  void erase(std::string_view event_id);
  std::size_t size() const { return size_; }

  /// Loads the ids of the last `per_partition` events of every partition of `topic`; returns how
  /// many. each, if given, sees every event read (the high-water mark is recalled in the same pass).
  std::size_t recall(const kafka::Settings& settings, const std::string& topic, std::int64_t per_partition,
                     const std::function<void(std::string_view)>& each = {});

private:
  struct Id {
    std::uint64_t hi = 0, lo = 0;  // never both zero for a stored id: see parse()
    bool operator==(const Id&) const = default;
    bool empty() const { return hi == 0 && lo == 0; }
  };
  static bool parse(std::string_view hex, Id& out);
  std::size_t slot_of(const Id& id) const;
  /// The slot holding id, or the empty slot where it would go.
  std::size_t find(const Id& id) const;
  void remove_at(std::size_t slot);
  void remove(const Id& id);
  void grow_table();

  std::size_t capacity_;
  std::size_t size_ = 0;
  std::vector<Id> table_;  // power-of-two size, at most half full
  std::size_t mask_;
  std::vector<Id> order_;  // the last capacity_ insertions; a ring once it holds capacity_
  std::size_t next_ = 0;   // where the next insertion goes in a full order_
};

}  // namespace anipipe::ingest
