#include "cache_rebuild.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "cache_writer.hpp"
#include "catalog/title_document.hpp"
#include "kafka/topic_reader.hpp"
#include "rebuild_progress.hpp"
#include "redis/client.hpp"
#include "stale_sweep.hpp"
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

/// Batches from the thread that reads and parses the topic to the ones that write Redis: they
/// overlap (Redis applies batches while the next is parsed). A few batches in hand at most.
class BatchHandoff {
public:
  /// Reader side: waits for room; false if the writer has given up.
  bool put(cache::CacheWriter::Pending&& batch) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return queue_.size() < 4 || failed_; });
    if (failed_) return false;
    queue_.push_back(std::move(batch));
    ready_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }
  /// Writer side: the next batch, or nullopt once closed and drained (or another writer failed).
  std::optional<cache::CacheWriter::Pending> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty() || closed_ || failed_; });
    if (failed_) return std::nullopt;
    if (queue_.empty()) return std::nullopt;
    auto batch = std::move(queue_.front());
    queue_.pop_front();
    room_.notify_one();
    return batch;
  }
  void fail() {
    std::lock_guard lock(mutex_);
    failed_ = true;
    room_.notify_all();
    ready_.notify_all();
  }

private:
  std::mutex mutex_;
  std::condition_variable room_, ready_;
  std::deque<cache::CacheWriter::Pending> queue_;
  bool closed_ = false, failed_ = false;
};

/// What the reader thread learns from the topic: `position` is read live (the progress line), the
/// rest once the reader is joined.
struct TopicTally {
  std::atomic<std::uint64_t> position{0};  // offsets passed, summed over partitions
  std::uint64_t records = 0, titles = 0, tombstones = 0, unusable = 0;
  std::map<std::int32_t, std::int64_t> read_to;  // per partition: the offset after the last record read
  std::unordered_map<std::int64_t, bool> alive;  // per title: is its last record read a document?
};

using Watermarks = std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>;

/// The reader thread: reads and parses the topic to its end, handing the writers a batch at a time.
void read_titles(const kafka::Settings& kafka, const CacheRebuildOptions& o, const Watermarks& marks,
                 const std::vector<std::int32_t>& partitions, BatchHandoff& handoff, TopicTally& tally) {
  cache::CacheWriter::Pending batch;
  kafka::read_to_end(
      kafka, o.titles_topic, partitions, kafka::ReadStart::from_earliest(),
      [&](const kafka::Message& m) {
        ++tally.records;
        const auto at = marks.find(m.partition());
        auto& to = tally.read_to[m.partition()];
        const std::int64_t from = std::max(to, at == marks.end() ? 0 : at->second.first);
        const std::int64_t end = at == marks.end() ? from : std::min(m.offset() + 1, at->second.second);
        if (end > from) tally.position += static_cast<std::uint64_t>(end - from);
        to = std::max(to, m.offset() + 1);
        const auto value = m.value();
        const auto key = m.key().value_or("");
        if (auto error = cache::CacheWriter::add_title(key, m.partition(), m.offset(), value, batch)) {
          ++tally.unusable;
          std::fprintf(stderr, "\ncache rebuild: skipping %s[%d]@%lld: %s\n", o.titles_topic.c_str(), m.partition(),
                       static_cast<long long>(m.offset()), error->c_str());
        } else {
          ++(value ? tally.titles : tally.tombstones);
          tally.alive[*catalog::parse_title_id(key)] = value.has_value();
        }
        if (batch.size() >= o.batch && !handoff.put(std::exchange(batch, {}))) throw std::runtime_error("writer stopped");
      },
      std::chrono::hours(2));
  if (batch.size() > 0) handoff.put(std::move(batch));
}

/// Applies the batches handed over, one writer per thread (writers[0] on this one), drawing the
/// progress meanwhile; returns once the handoff is drained or a writer failed, with the first error.
std::exception_ptr apply_batches(BatchHandoff& handoff, const std::vector<std::unique_ptr<cache::CacheWriter>>& writers, Progress& progress,
                                 std::uint64_t total, const std::atomic<std::uint64_t>& position) {
  std::mutex error_mutex;
  std::exception_ptr writer_error;
  auto apply = [&](cache::CacheWriter& w) {
    try {
      while (auto batch = handoff.take()) {
        flush_with_retries(w, *batch);
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!writer_error) writer_error = std::current_exception();
      handoff.fail();
    }
  };
  std::vector<std::thread> appliers;
  for (std::size_t i = 1; i < writers.size(); ++i) appliers.emplace_back(apply, std::ref(*writers[i]));
  std::thread progress_thread;
  std::atomic<bool> finished{false};
  progress_thread = std::thread([&] {
    while (!finished.load()) {
      progress.update(std::min(total, position.load()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  apply(*writers[0]);
  for (auto& t : appliers) t.join();
  finished = true;
  progress_thread.join();
  return writer_error;
}

void print_summary(const TopicTally& tally, std::uint64_t total, const cache::SweepResult& swept, double s) {
  std::printf("{\"records\":%llu,\"titles\":%llu,\"tombstones\":%llu,\"unusable\":%llu,\"offsets\":%llu,"
              "\"retired_titles\":%zu,\"stale_keys\":%zu,\"stale_index_entries\":%zu,\"seconds\":%.3f,\"records_per_s\":%.0f}\n",
              static_cast<unsigned long long>(tally.records), static_cast<unsigned long long>(tally.titles),
              static_cast<unsigned long long>(tally.tombstones), static_cast<unsigned long long>(tally.unusable),
              static_cast<unsigned long long>(total), swept.titles_retired, swept.keys_deleted, swept.entries_removed, s,
              s > 0 ? static_cast<double>(tally.records) / s : 0.0);
}

}  // namespace

int rebuild_cache(const kafka::Settings& kafka, kafka::Admin& admin, const CacheRebuildOptions& o) {
  auto ro = redis::Options::parse(o.redis_url);
  redis::Client redis(ro);
  cache::CacheTopics topics;
  topics.titles = o.titles_topic;

  const auto marks = admin.watermarks(o.titles_topic);
  std::uint64_t total = 0;
  std::vector<std::int32_t> partitions;
  for (const auto& [p, w] : marks) {
    partitions.push_back(p);
    total += static_cast<std::uint64_t>(std::max<std::int64_t>(0, w.second - w.first));
  }
  Progress progress("cache rebuild", total, o.progress_bar);
  TopicTally tally;

  // This thread writes Redis; a reader thread reads and parses the topic.
  BatchHandoff handoff;
  std::exception_ptr reader_error;
  std::thread reader([&] {
    try {
      read_titles(kafka, o, marks, partitions, handoff, tally);
    } catch (...) {
      reader_error = std::current_exception();
    }
    handoff.close();
  });
  // Several connections apply batches at once: each transaction costs three round trips, which
  // one connection would wait out one after the other while Redis idles. Titles racing each other
  // across connections are decided by the same per-title version guard as a racing worker.
  std::vector<std::unique_ptr<redis::Client>> clients;
  std::vector<std::unique_ptr<cache::CacheWriter>> writers;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, o.connections); ++i) {
    clients.push_back(std::make_unique<redis::Client>(ro));
    writers.push_back(std::make_unique<cache::CacheWriter>(*clients.back(), topics));
  }
  const auto writer_error = apply_batches(handoff, writers, progress, total, tally.position);
  reader.join();
  if (writer_error) std::rethrow_exception(writer_error);
  if (reader_error) std::rethrow_exception(reader_error);
  // Read to the end: every offset there was is passed, records or markers.
  const double s = progress.finish(total);
  const std::uint64_t markers = total > tally.records ? total - tally.records : 0;
  if (markers)
    std::fprintf(stderr, "cache rebuild: %llu of %llu offsets held transaction markers or aborted records, not titles\n",
                 static_cast<unsigned long long>(markers), static_cast<unsigned long long>(total));

  std::unordered_set<std::int64_t> live;
  for (const auto& [id, is_alive] : tally.alive)
    if (is_alive) live.insert(id);
  const auto swept = cache::sweep_stale(*clients[0], *writers[0], live, tally.read_to);
  std::fprintf(stderr, "cache rebuild: swept %zu title(s) not in the catalog, %zu stale key(s), %zu stale index entr%s\n",
               swept.titles_retired, swept.keys_deleted, swept.entries_removed, swept.entries_removed == 1 ? "y" : "ies");
  print_summary(tally, total, swept, s);
  return tally.unusable ? 1 : 0;
}

}  // namespace anipipe::ops
