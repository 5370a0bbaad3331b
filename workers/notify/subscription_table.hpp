#pragma once
// Every durable subscription (anilibria.subscriptions, compacted: key "title_id:subscriber_id", a
// value subscribes, a tombstone unsubscribes), held by title so a new episode finds its audience
// with one lookup. Every notify instance holds all of it: fan-out needs a title's whole audience,
// whichever partition its episode arrives on.
//
// Memory: one subscription costs its subscriber id plus a hash-node (workers/notify/README.md
// gives the measured figure for a million; `anipipe-bench-notify table-memory` measures it).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <simdjson.h>

namespace anipipe::notify {

/// Where a subscriber wants to hear about new episodes (the subscription's "channels").
enum Channel : std::uint8_t { topic = 1, webhook = 2, websocket = 4 };
inline constexpr std::uint8_t kAllChannels = topic | webhook | websocket;

class SubscriptionTable {
public:
  /// subscriber id -> channels
  using Audience = std::unordered_map<std::string, std::uint8_t>;

  /// Applies one record of the subscriptions topic. Returns why it was ignored (a malformed key or
  /// value; the table is left as it was), or nullopt.
  std::optional<std::string> apply(std::optional<std::string_view> key, std::optional<std::string_view> value);

  /// The title's subscribers, or null if it has none.
  const Audience* audience(std::int64_t title_id) const;
  std::size_t subscriptions() const { return subscriptions_; }
  std::size_t titles() const { return by_title_.size(); }

private:
  std::unordered_map<std::int64_t, Audience> by_title_;
  std::size_t subscriptions_ = 0;
  simdjson::dom::parser parser_;
};

}  // namespace anipipe::notify
