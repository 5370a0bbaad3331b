#pragma once
// cache's batch logic: anilibria.titles and anilibria.cache_invalidations into Redis.
//   title document -> SET v2 and v1 keys, alias, the updated-at ZSET, genre and status sets
//                     (index entries the previous version had and this one lacks are removed);
//   tombstone      -> every key and index entry of the title removed;
//   invalidation   -> DEL a key / a title's keys, or SCAN+UNLINK a pattern (never KEYS), then
//                     PUBLISH anilibria:invalidate so every Node.js and edge process drops its copy.
// Redis losing its data (a restart without persistence, a flush) is noticed by a per-partition
// marker going missing; those partitions are consumed again from their beginning.
// A batch is applied in record order as pipelines (one round trip per run of writes; a pattern
// needs its own SCAN rounds). Every effect is idempotent, so a retried batch is harmless.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "catalog/title_document.hpp"
#include "redis/client.hpp"
#include "runtime/batch_loop.hpp"

namespace anipipe::cache {

struct CacheTopics {
  std::string titles = "anilibria.titles";
  std::string invalidations = "anilibria.cache_invalidations";
};

class CacheWriter final : public runtime::BatchHandler {
public:
  CacheWriter(redis::Client& redis, CacheTopics topics) : redis_(redis), topics_(std::move(topics)) {}

  runtime::BatchResult handle_batch(const std::vector<const kafka::Message*>& records) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;

  /// SCAN MATCH pattern + UNLINK; returns how many keys went. Also used by `anipipe-ops cache rebuild`.
  static std::size_t delete_matching(redis::Client& redis, const std::string& pattern);

private:
  using Previous = std::unordered_map<std::int64_t, std::optional<catalog::TitleDocument>>;
  /// The documents Redis holds now for these ids (one MGET), to know which index entries to drop.
  Previous load_previous(const std::vector<std::int64_t>& ids);
  void write_title(const catalog::TitleDocument* before, const catalog::TitleDocument& doc, const std::string& json,
                   std::vector<redis::Command>& out);
  void remove_title(std::int64_t id, const catalog::TitleDocument* before, std::vector<redis::Command>& out);
  void flush(std::vector<redis::Command>& commands);
  /// Assigned titles partitions whose built marker is missing: replay them (result.rewind_to_start);
  /// partitions whose replay starts with this batch get their marker set (in commands).
  void check_markers(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result,
                     std::vector<redis::Command>& commands);

  redis::Client& redis_;
  CacheTopics topics_;
  std::set<std::int32_t> assigned_;   // titles partitions
  std::set<std::int32_t> replaying_;  // rewound to their start; the marker is set by the next batch
};

}  // namespace anipipe::cache
