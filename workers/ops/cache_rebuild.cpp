#include "cache_rebuild.hpp"

#include <cstdio>
#include <thread>

#include "cache_keys.hpp"
#include "cache_writer.hpp"
#include "kafka/topic_reader.hpp"
#include "rebuild_progress.hpp"
#include "redis/client.hpp"
#include "util/backoff.hpp"

namespace anipipe::ops {

namespace {
/// Redis hiccups during a long rebuild are retried (the writes are idempotent); a real outage ends it.
void flush_with_retries(cache::CacheWriter& writer, cache::CacheWriter::Pending& commands) {
  util::Backoff backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 2.0};
  for (int attempt = 1;; ++attempt) {
    try {
      writer.flush(commands);
      return;
    } catch (const redis::Unavailable& e) {
      if (attempt >= 8) throw;
      const auto delay = backoff.delay(attempt);
      std::fprintf(stderr, "cache rebuild: %s; retrying in %lld ms\n", e.what(), static_cast<long long>(delay.count()));
      std::this_thread::sleep_for(delay);
    }
  }
}
}  // namespace

int rebuild_cache(const kafka::Settings& kafka, kafka::Admin& admin, const CacheRebuildOptions& o) {
  auto ro = redis::Options::parse(o.redis_url);
  redis::Client redis(ro);
  cache::CacheTopics topics;
  topics.titles = o.titles_topic;
  cache::CacheWriter writer(redis, topics);

  // cache's own bookkeeping stays: partition markers (running workers must not replay on top) and
  // per-title versions (the guard, and what each title's index entries were built from, so a
  // worker's write racing the wipe cannot leave an index entry nobody knows about).
  const std::string keep = "anilibria:cache:";
  const auto deleted = cache::CacheWriter::delete_matching(redis, std::string(cache::keys::kNamespace) + "*", keep);
  std::fprintf(stderr, "cache rebuild: deleted %zu key(s) under %s* (kept %s*)\n", deleted, std::string(cache::keys::kNamespace).c_str(),
               keep.c_str());

  const auto marks = admin.watermarks(o.titles_topic);
  std::uint64_t total = 0;
  std::vector<std::int32_t> partitions;
  for (const auto& [p, w] : marks) {
    partitions.push_back(p);
    total += static_cast<std::uint64_t>(std::max<std::int64_t>(0, w.second - w.first));
  }
  Progress progress("cache rebuild", total, o.progress_bar);
  cache::CacheWriter::Pending commands;
  std::uint64_t done = 0, titles = 0, tombstones = 0, unusable = 0;
  kafka::read_to_end(
      kafka, o.titles_topic, partitions, kafka::ReadStart::from_earliest(),
      [&](const kafka::Message& m) {
        ++done;
        const auto value = m.value();
        if (auto error = writer.add_title(m.key().value_or(""), m.partition(), m.offset(), value, commands)) {
          ++unusable;
          std::fprintf(stderr, "\ncache rebuild: skipping %s[%d]@%lld: %s\n", o.titles_topic.c_str(), m.partition(),
                       static_cast<long long>(m.offset()), error->c_str());
        } else {
          ++(value ? titles : tombstones);
        }
        if (commands.size() >= o.batch) flush_with_retries(writer, commands);
        progress.update(done);
      },
      std::chrono::hours(2));
  flush_with_retries(writer, commands);
  const double s = progress.finish(done);
  std::printf("{\"records\":%llu,\"titles\":%llu,\"tombstones\":%llu,\"unusable\":%llu,\"deleted_keys\":%zu,\"seconds\":%.3f,"
              "\"records_per_s\":%.0f}\n",
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(titles),
              static_cast<unsigned long long>(tombstones), static_cast<unsigned long long>(unusable), deleted, s,
              s > 0 ? static_cast<double>(done) / s : 0.0);
  return unusable ? 1 : 0;
}

}  // namespace anipipe::ops
