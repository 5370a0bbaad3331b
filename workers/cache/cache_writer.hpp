#pragma once
// cache's batch logic: anilibria.titles and anilibria.cache_invalidations into Redis.
//   title document -> v2 and v1 keys, alias, the updated-at ZSET, genre and status sets (index
//                     entries of the previous version that this one lacks are removed);
//   tombstone      -> every key and index entry of the title removed;
//   invalidation   -> DEL a key / a title's keys, or SCAN+UNLINK a pattern (never KEYS), then
//                     PUBLISH anilibria:invalidate so every Node.js and edge process drops its copy.
// Titles are applied per batch, atomically and only where Redis does not already hold a newer
// version (the version guard): the batch's bookkeeping keys are WATCHed and read in one round
// trip, then one MULTI/EXEC carries aggregated writes (one MSET for every value, one ZADD, one
// SADD/SREM per set), and a batch that raced another writer (EXEC refused) is read and decided
// again. Invalidations keep their place in record order. Every effect is idempotent, so a retried
// batch is harmless.
// Redis losing its data (a restart without persistence, a flush) is noticed by a per-partition
// marker going missing; those partitions are consumed again from their beginning.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"
#include "topic_names.hpp"

namespace anipipe::cache {

struct CacheTopics {
  std::string titles = topic_names::kTitles;
  std::string invalidations = topic_names::kCacheInvalidations;
};

class CacheWriter final : public runtime::BatchHandler {
public:
  CacheWriter(redis::Client& redis, CacheTopics topics);

  /// One titles record, ready to apply.
  struct TitleWrite {
    std::int64_t id = 0;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    bool tombstone = false;
    std::string v2, v1, alias, score, status;
    std::vector<std::string> genres;
  };
  /// What a batch has queued: title writes, then plain commands (applied after them).
  struct Pending {
    std::vector<TitleWrite> titles;
    std::vector<redis::Command> commands;
    std::size_t size() const { return titles.size() + commands.size(); }
  };

  runtime::BatchResult handle_batch(const std::vector<const kafka::Message*>& records) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;

  /// Appends the guarded apply of one titles record (value nullopt: a tombstone). Returns why the
  /// record can never be applied, if so. Used by handle_batch and by `anipipe-ops cache rebuild`,
  /// whose reader thread parses while other threads write: it touches no writer's state.
  static std::optional<std::string> add_title(std::string_view key, std::int32_t partition, std::int64_t offset,
                                              std::optional<std::string_view> value, Pending& out);
  /// Applies what is queued (titles guarded, then the commands); throws redis::Unavailable if Redis
  /// is down or refuses a command. Clears pending.
  void flush(Pending& pending);

  /// SCAN MATCH pattern + UNLINK, skipping keys that start with `keep_prefix` (if given);
  /// returns how many keys went.
  static std::size_t delete_matching(redis::Client& redis, const std::string& pattern, std::string_view keep_prefix = {});

private:
  /// Assigned titles partitions whose built marker is missing: replay them (result.rewind_to_start);
  /// partitions whose replay starts with this batch get their marker set (in commands).
  void check_markers(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result, Pending& pending);
  void add_invalidation(std::string_view json, Pending& pending, std::optional<std::string>& error);
  /// One guarded round: true if applied, false if another writer raced it (read and decide again).
  bool apply_titles(const std::vector<const TitleWrite*>& titles);

  redis::Client& redis_;
  CacheTopics topics_;
  std::set<std::int32_t> assigned_;   // titles partitions
  std::set<std::int32_t> replaying_;  // rewound to their start; the marker is set by the next batch
};

}  // namespace anipipe::cache
