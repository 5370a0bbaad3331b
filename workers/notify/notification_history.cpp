#include "notification_history.hpp"

#include <stdexcept>

#include "redis/notification_keys.hpp"

namespace anipipe::notify {

namespace keys = redis::notifications;

std::vector<bool> NotificationHistory::claim_and_record(const std::vector<Claim>& claims) {
  std::vector<redis::Command> commands;
  commands.reserve(claims.size());
  const auto dedup_ttl = std::to_string(settings_.dedup_ttl.count()), bound = std::to_string(settings_.max_per_user),
             history_ttl = std::to_string(settings_.history_ttl.count());
  for (const auto& c : claims) {
    const auto& n = *c.notification;
    commands.push_back({"EVAL", std::string(keys::kClaimAndRecordScript), "4", keys::seen(n.idempotency_key), keys::history(n.user_id),
                        keys::items(n.user_id), keys::read(n.user_id), c.owner, dedup_ttl, std::to_string(n.created_at_ms), n.id,
                        notification_record(n), bound, history_ttl});
  }
  const auto replies = redis_.pipeline(commands);
  std::vector<bool> owned;
  owned.reserve(replies.size());
  for (const auto& r : replies) {
    if (r.is_error()) throw std::runtime_error("redis refused the notification history script: " + r.str);
    owned.push_back(r.integer == 1);
  }
  return owned;
}

}  // namespace anipipe::notify
