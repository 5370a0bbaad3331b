#pragma once
// The Redis layout of seed 004's notifications, shared by its one writer (notify) and its one
// reader (the edge): docs/notifications.md. Outside anilibria:*, the namespace cache owns
// (workers/cache/cache_keys.hpp) and `cache rebuild` clears: a user's history is no cache of a topic
// and cannot be rebuilt from one.
//   notification:seen:<idempotency key>  STRING  the record that claimed the key ("topic/partition/offset"), EX the dedup TTL
//   notifications:{<user>}               ZSET    notification ids scored by created_at (unix ms), at most the history's bound
//   notifications:{<user>}:items         HASH    id -> the notification's JSON (as pushed on anilibria.notifications)
//   notifications:{<user>}:read          SET     ids the user marked read
// A user's three keys share the hash tag {<user>}, so one script can touch them all on a cluster too.
#include <string>
#include <string_view>

namespace anipipe::redis::notifications {

std::string seen(std::string_view idempotency_key);
std::string history(std::string_view user);
std::string items(std::string_view user);
std::string read(std::string_view user);

/// The notification's id: hex of the first 16 bytes of SHA-256(idempotency key). A redelivery, or
/// the edge answering the publisher, names the same entry.
std::string notification_id(std::string_view idempotency_key);

/// Claims the idempotency key for one record and writes the notification into its user's history,
/// atomically; returns 1, or 0 if another record holds the key (a duplicate: nothing written).
/// The record that holds it claims it again (a batch retried, or consumed again after a crash).
/// KEYS: seen, history, items, read. ARGV: owner, dedup TTL (s), created_at (ms), id, JSON, bound, history TTL (s).
inline constexpr std::string_view kClaimAndRecordScript = R"lua(
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[3], unpack(old))
  redis.call('SREM', KEYS[4], unpack(old))
end
for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return 1
)lua";

/// Marks one notification read; returns 0 if the user's history has no such id. A read set made
/// here expires with the history (notify refreshes both on the user's next notification).
/// KEYS: items, read. ARGV: id.
inline constexpr std::string_view kMarkReadScript = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
)lua";

}  // namespace anipipe::redis::notifications
