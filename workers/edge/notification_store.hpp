#pragma once
// A user's notification history as the edge reads it from Redis (the layout and its one writer,
// notify: common/redis/notification_keys.hpp): a page of it newest first, the unread count, and
// marking one read. One connection, guarded: requests take turns on it (each is two or three
// commands on at most --notification-history-max entries), off the I/O threads.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "redis/client.hpp"

namespace anipipe::edge {

/// Where a page ends: the last notification's created_at (ms) and id, as "<ms>-<id>" in the API.
struct HistoryCursor {
  std::int64_t created_ms = 0;
  std::string id;
  static std::optional<HistoryCursor> parse(std::string_view text);
  std::string to_string() const;
};

struct HistoryEntry {
  std::string id;
  std::int64_t created_ms = 0;
};

struct HistoryQuery {
  std::size_t limit = 20;
  std::optional<HistoryCursor> after;
  bool unread_only = false;
};

struct HistoryPageIds {
  std::vector<std::string> ids;
  std::optional<HistoryCursor> next;
  std::size_t unread = 0;  // in the whole history
};

/// The page of `newest_first` (Redis' ZREVRANGE order: created_at descending, then id descending)
/// after the query's cursor.
HistoryPageIds page_of(const std::vector<HistoryEntry>& newest_first, const std::unordered_set<std::string>& read, const HistoryQuery& q);

struct HistoryPage {
  std::vector<std::string> items;  // each notification's JSON with "read" added
  std::optional<HistoryCursor> next;
  std::size_t unread = 0;
};

class NotificationStore {
public:
  explicit NotificationStore(redis::Options options) : redis_(std::move(options)) {}

  /// Both throw redis::Unavailable when Redis cannot be reached, std::runtime_error when it refuses.
  HistoryPage list(std::string_view user, const HistoryQuery& query);
  /// False if the user's history has no such notification.
  bool mark_read(std::string_view user, std::string_view id);

private:
  std::mutex mutex_;
  redis::Client redis_;
};

}  // namespace anipipe::edge
