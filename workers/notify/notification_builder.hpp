#pragma once
// anilibria.notifications values for one new episode, one per subscriber. Everything but the
// subscriber (and its channels) is the same for the whole audience, so it is rendered once and
// each notification is three copies; the first one of every episode is checked against the
// schema by the caller, the rest are the same shape by construction.
#include <cstdint>
#include <string>
#include <string_view>

#include "new_episode.hpp"

namespace anipipe::notify {

class NotificationBuilder {
public:
  /// created_at: when the fan-out started (the same for the whole audience).
  NotificationBuilder(const NewEpisode& e, std::string_view created_at);
  /// Replaces out with the notification for one subscriber.
  void build(std::string_view subscriber_id, std::uint8_t channels, std::string& out) const;

private:
  std::string head_;    // {"idempotency_key":"<title>:<episode>:
  std::string middle_;  // ","title_id":...,"created_at":"...","subscriber_id":
};

}  // namespace anipipe::notify
