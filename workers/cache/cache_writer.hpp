#pragma once
// cache's batch logic: anilibria.titles and anilibria.cache_invalidations into Redis.
//   title document -> v2 and v1 keys, alias, the updated-at ZSET, genre and status sets (index
//                     entries of the previous version that this one lacks are removed);
//   tombstone      -> every key and index entry of the title removed;
//   invalidation   -> DEL a key / a title's keys, or SCAN+UNLINK a pattern (never KEYS), then
//                     PUBLISH anilibria:invalidate so every Node.js and edge process drops its copy.
// Each title record is applied by one Lua script (title_script.hpp), atomically and only if Redis
// does not already hold a newer version. A batch is applied in record order as pipelines (one
// round trip per run of writes; a pattern needs its own SCAN rounds). Every effect is idempotent,
// so a retried batch is harmless.
// Redis losing its data (a restart without persistence, a flush) is noticed by a per-partition
// marker going missing; those partitions are consumed again from their beginning.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"

namespace anipipe::cache {

struct CacheTopics {
  std::string titles = "anilibria.titles";
  std::string invalidations = "anilibria.cache_invalidations";
};

class CacheWriter final : public runtime::BatchHandler {
public:
  CacheWriter(redis::Client& redis, CacheTopics topics);

  runtime::BatchResult handle_batch(const std::vector<const kafka::Message*>& records) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;

  /// Appends the guarded apply of one titles record (value nullopt: a tombstone). Returns why the
  /// record can never be applied, if so. Used by handle_batch and by `anipipe-ops cache rebuild`.
  std::optional<std::string> add_title(std::string_view key, std::int32_t partition, std::int64_t offset,
                                       std::optional<std::string_view> value, std::vector<redis::Command>& out) const;
  /// Sends the commands as one pipeline (loading the script if Redis forgot it); throws
  /// redis::Unavailable if Redis is down or refuses a command. Clears commands.
  void flush(std::vector<redis::Command>& commands);

  /// SCAN MATCH pattern + UNLINK, skipping keys that start with `keep_prefix` (if given);
  /// returns how many keys went.
  static std::size_t delete_matching(redis::Client& redis, const std::string& pattern, std::string_view keep_prefix = {});

private:
  /// Assigned titles partitions whose built marker is missing: replay them (result.rewind_to_start);
  /// partitions whose replay starts with this batch get their marker set (in commands).
  void check_markers(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result,
                     std::vector<redis::Command>& commands);
  void add_invalidation(std::string_view json, std::vector<redis::Command>& commands, std::optional<std::string>& error);

  redis::Client& redis_;
  CacheTopics topics_;
  std::string script_sha_;
  std::set<std::int32_t> assigned_;   // titles partitions
  std::set<std::int32_t> replaying_;  // rewound to their start; the marker is set by the next batch
};

}  // namespace anipipe::cache
