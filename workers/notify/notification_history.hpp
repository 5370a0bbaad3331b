#pragma once
// The once-per-key claim and the user's history in Redis (common/redis/notification_keys.hpp), as
// notify writes them: one script per notification, the batch's in one pipeline. The claim and the
// history entry are written together, so a notification is in its user's history exactly when
// some record owns its key.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "redis/client.hpp"
#include "service_notification.hpp"

namespace anipipe::notify {

struct HistorySettings {
  std::chrono::seconds dedup_ttl{7 * 86'400};     // how long an idempotency key is remembered
  std::size_t max_per_user = 200;                 // the newest this many per user are kept
  std::chrono::seconds history_ttl{30 * 86'400};  // a user's history expires this long after its last notification
};

class NotificationHistory {
public:
  NotificationHistory(redis::Client& redis, HistorySettings settings) : redis_(redis), settings_(settings) {}

  struct Claim {
    const ServiceNotification* notification = nullptr;
    std::string owner;  // the record's "topic/partition/offset": it, and only it, may claim the key again
  };
  /// For each claim, in order: true if its record owns the key (the history has the notification),
  /// false for a duplicate. Throws redis::Unavailable, or std::runtime_error if Redis refuses the script.
  std::vector<bool> claim_and_record(const std::vector<Claim>& claims);
  const HistorySettings& settings() const { return settings_; }

private:
  redis::Client& redis_;
  HistorySettings settings_;
};

}  // namespace anipipe::notify
