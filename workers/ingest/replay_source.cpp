#include "replay_source.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "upstream/normalizer.hpp"
#include "util/clock.hpp"

namespace anipipe::ingest {
namespace {

/// The lines of text[begin, end), which starts at a line start; calls f(line) for each line,
/// trailing CR and blanks removed, empty ones included (they count as lines).
template <class F>
void for_each_line(const char* begin, const char* end, F&& f) {
  for (const char* p = begin; p < end;) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    std::string_view line(p, static_cast<std::size_t>(line_end - p));
    p = nl ? nl + 1 : end;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!f(line)) return;
  }
}

/// The RFC 3339 time of observation: formatting a timestamp per line would cost more than
/// normalizing it, and millisecond exactness is not needed.
class ObservedAt {
public:
  std::string_view now() {
    // Even reading the clock shows in a replay's profile: every 64 lines (a few microseconds).
    if ((++calls_ & 63) == 0) {
      const auto t = std::chrono::steady_clock::now();
      if (t - refreshed_ > std::chrono::milliseconds(100)) {
        text_ = util::now_rfc3339();
        refreshed_ = t;
      }
    }
    return text_;
  }

private:
  std::string text_ = util::now_rfc3339();
  std::chrono::steady_clock::time_point refreshed_ = std::chrono::steady_clock::now();
  unsigned calls_ = 0;
};

/// "replay:FILE:LINE", built in one reused buffer (only dead letters name it).
class Origin {
public:
  explicit Origin(const std::filesystem::path& file) : prefix_("replay:" + file.filename().string() + ":"), text_(prefix_) {}
  std::string_view of(std::size_t line) {
    char number[24];
    text_.resize(prefix_.size());
    text_.append(number, std::to_chars(number, number + sizeof number, line).ptr);
    return text_;
  }

private:
  std::string prefix_, text_;
};

std::size_t replay_on_this_thread(const simdjson::padded_string& text, const ReplayOptions& options, const json::SchemaRegistry& contract,
                                  EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop) {
  upstream::Normalizer normalizer(&contract);
  upstream::Normalized n;  // reused: no allocation per line
  Origin origin(options.file);
  ObservedAt observed;
  std::optional<std::chrono::system_clock::time_point> first_recorded;
  const auto started = std::chrono::steady_clock::now();
  std::size_t lines = 0;
  for_each_line(text.data(), text.data() + text.size(), [&](std::string_view line) {
    if (stop.load(std::memory_order_relaxed)) return false;
    ++lines;
    if (line.empty()) return true;
    normalizer.normalize(upstream::padded_line(line, text), "replay", "", observed.now(), n);
    if (options.recorded_pace && !n.recorded_at.empty()) {
      if (auto at = util::parse_rfc3339(n.recorded_at)) {
        if (!first_recorded) first_recorded = *at;
        const auto offset = std::chrono::duration_cast<std::chrono::steady_clock::duration>((*at - *first_recorded) / options.speed);
        while (std::chrono::steady_clock::now() < started + offset && !stop.load()) {
          producer.poll(std::chrono::milliseconds(0));
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(started + offset - std::chrono::steady_clock::now(),
                                                                                    std::chrono::milliseconds(50)));
        }
      }
    }
    publisher.publish(n, line, "replay", origin.of(lines));
    if ((lines & 1023) == 0) producer.poll(std::chrono::milliseconds(0));
    return true;
  });
  return lines;
}

/// One chunk of the file: the lines a normalizing thread took, and what became of each.
struct Chunk {
  std::vector<std::string_view> lines;
  std::vector<upstream::Normalized> results;  // reused from chunk to chunk: no allocation per line
  bool ready = false;
};

/// Chunks are taken in file order by the normalizing threads and published in the same order by
/// the calling thread; a ring of them bounds the memory (and how far normalizing runs ahead).
class ChunkPipeline {
public:
  ChunkPipeline(const simdjson::padded_string& text, std::size_t chunk_bytes, std::size_t ring)
      : text_(text), chunk_bytes_(chunk_bytes), ring_(ring) {
    const std::size_t size = text.size();
    chunks_total_ = size == 0 ? 0 : (size + chunk_bytes - 1) / chunk_bytes;
  }

  /// A normalizing thread's loop. What it cannot survive (out of memory) ends the replay.
  void normalize(const json::SchemaRegistry& contract, const std::atomic<bool>& stop) {
    try {
      normalize_chunks(contract, stop);
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        done_ = true;
      }
      space_.notify_all();
      ready_.notify_all();
    }
  }

  /// The next chunk in file order, once normalized; nullptr at the end. Rethrows what ended a
  /// normalizing thread.
  Chunk* next(const std::atomic<bool>& stop) {
    if (next_publish_ >= chunks_total_) return nullptr;
    std::unique_lock lock(mutex_);
    Chunk& c = ring_[next_publish_ % ring_.size()];
    while (!c.ready && !error_ && !stop.load()) ready_.wait_for(lock, std::chrono::milliseconds(100));
    if (error_) std::rethrow_exception(error_);
    return c.ready ? &c : nullptr;
  }
  /// The chunk next() returned is published: its slot may be reused.
  void release() {
    {
      std::lock_guard lock(mutex_);
      ring_[next_publish_ % ring_.size()].ready = false;
      ++next_publish_;
    }
    space_.notify_all();
  }
  void finish() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    space_.notify_all();
  }

private:
  void normalize_chunks(const json::SchemaRegistry& contract, const std::atomic<bool>& stop) {
    upstream::Normalizer normalizer(&contract);
    ObservedAt observed;
    for (;;) {
      std::size_t k;
      {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return done_ || next_take_ >= chunks_total_ || next_take_ < next_publish_ + ring_.size(); });
        if (done_ || next_take_ >= chunks_total_) return;
        k = next_take_++;
      }
      Chunk& c = ring_[k % ring_.size()];
      c.lines.clear();
      const auto [begin, end] = bounds(k);
      std::size_t i = 0;
      for_each_line(begin, end, [&](std::string_view line) {
        if (stop.load(std::memory_order_relaxed)) return false;
        c.lines.push_back(line);
        if (c.results.size() <= i) c.results.emplace_back();
        if (!line.empty()) normalizer.normalize(upstream::padded_line(line, text_), "replay", "", observed.now(), c.results[i]);
        ++i;
        return true;
      });
      {
        std::lock_guard lock(mutex_);
        c.ready = true;
      }
      ready_.notify_all();
    }
  }

  /// Chunk k is the lines that start in [k * chunk_bytes, (k + 1) * chunk_bytes).
  std::pair<const char*, const char*> bounds(std::size_t k) const {
    const char* const data = text_.data();
    const std::size_t size = text_.size();
    auto line_start_at_or_after = [&](std::size_t at) -> std::size_t {
      if (at == 0) return 0;
      if (at >= size) return size;
      const void* nl = std::memchr(data + at - 1, '\n', size - at + 1);
      return nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1 : size;
    };
    return {data + line_start_at_or_after(k * chunk_bytes_), data + line_start_at_or_after((k + 1) * chunk_bytes_)};
  }

  const simdjson::padded_string& text_;
  const std::size_t chunk_bytes_;
  std::size_t chunks_total_;
  std::vector<Chunk> ring_;
  std::mutex mutex_;
  std::condition_variable space_, ready_;
  std::size_t next_take_ = 0, next_publish_ = 0;
  bool done_ = false;
  std::exception_ptr error_;
};

std::size_t replay_in_parallel(const simdjson::padded_string& text, const ReplayOptions& options, const json::SchemaRegistry& contract,
                               EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop) {
  // ~256 KiB chunks (a hundred or more lines): the threads meet once per chunk, not per line.
  ChunkPipeline pipeline(text, 256 * 1024, 4 * options.threads);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < options.threads; ++i) threads.emplace_back([&] { pipeline.normalize(contract, stop); });
  Origin origin(options.file);
  std::size_t lines = 0;
  try {
    while (Chunk* c = pipeline.next(stop)) {
      for (std::size_t i = 0; i < c->lines.size(); ++i) {
        ++lines;
        if (!c->lines[i].empty()) publisher.publish(c->results[i], c->lines[i], "replay", origin.of(lines));
        if ((lines & 1023) == 0) producer.poll(std::chrono::milliseconds(0));
      }
      pipeline.release();
    }
  } catch (...) {
    pipeline.finish();
    for (auto& t : threads) t.join();
    throw;
  }
  pipeline.finish();
  for (auto& t : threads) t.join();
  return lines;
}

}  // namespace

simdjson::padded_string load_recording(const std::filesystem::path& file) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(file.string()).get(text))
    throw std::runtime_error("cannot read recording " + file.string() + ": " + simdjson::error_message(err));
  return text;
}

std::size_t replay(const simdjson::padded_string& text, const ReplayOptions& options, const json::SchemaRegistry& contract,
                   EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop) {
  const std::size_t lines = options.recorded_pace || options.threads <= 1
                                ? replay_on_this_thread(text, options, contract, publisher, producer, stop)
                                : replay_in_parallel(text, options, contract, publisher, producer, stop);
  spdlog::info("replayed {} line(s) of {}", lines, options.file.string());
  return lines;
}

}  // namespace anipipe::ingest
