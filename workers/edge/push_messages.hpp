#pragma once
// The WebSocket's push messages, built once per record and shared by every connection it goes
// to: {"type":...,"title_id":N,"position":"...","data":<the record's value>}. The live feeds and a
// replay read from Kafka build them the same way, so a replayed push is the push it would have been.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kafka/message.hpp"
#include "stream_position.hpp"

namespace anipipe::edge {

/// The streams a client can come back to: a title's new episodes, a user's notifications.
enum class Stream { titles, notifications };

std::shared_ptr<const std::string> push_message(std::string_view type, std::optional<std::int64_t> title_id,
                                                std::optional<StreamPosition> position, std::optional<std::string_view> data);

/// A record as a push: the stream key it goes to (a title id in decimal, a user) and the message.
struct LivePush {
  std::string key;
  std::optional<std::int64_t> title_id;
  std::shared_ptr<const std::string> message;
};
/// nullopt: the record is not pushed (no key, a tombstone, a key that is not a title id).
std::optional<LivePush> new_episode_push(const kafka::Message& m, std::uint32_t epoch);
std::optional<LivePush> notification_push(const kafka::Message& m, std::uint32_t epoch);

}  // namespace anipipe::edge
