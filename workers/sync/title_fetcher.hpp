#pragma once
// Full titles from the upstream (GET /anime/releases/{id}), many in flight: a pool of threads,
// each with its own keep-alive client, all sharing one circuit breaker so the upstream is judged
// as a whole. sync hands it every id a batch needs at once, so a batch of requests costs about
// one round trip per `concurrency` titles instead of one per title.
//
// A fetch never throws: its outcome says what the upstream answered.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/title_document.hpp"
#include "http/client.hpp"

namespace prometheus { class Registry; }

namespace anipipe::sync {

struct Fetched {
  enum class Status {
    found,        // title holds the upstream's full document
    gone,         // the upstream answered 404: it does not (or no longer) have the title
    unavailable,  // no usable answer (breaker open, timeouts, 5xx, 429 after retries): try later
    malformed,    // an answer that cannot be normalized into a title: retrying will not help
  };
  Status status = Status::unavailable;
  std::optional<catalog::TitleDocument> title;
  std::string reason;
};

class TitleFetcher {
public:
  /// base_url: the v1 API root, e.g. https://anilibria.top/api/v1.
  TitleFetcher(std::string base_url, http::ClientOptions options, std::size_t concurrency, prometheus::Registry* metrics);
  ~TitleFetcher();
  TitleFetcher(const TitleFetcher&) = delete;
  TitleFetcher& operator=(const TitleFetcher&) = delete;

  /// Fetches every id, up to `concurrency` at a time; results in the order of ids. Returns early
  /// (the rest unavailable) once stop is set.
  std::vector<Fetched> fetch(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop);

  http::CircuitBreaker::State breaker_state() const { return breaker_->state(); }

private:
  struct Slot;
  struct Job {
    const std::vector<std::int64_t>* ids = nullptr;
    std::vector<Fetched>* out = nullptr;
    const std::atomic<bool>* stop = nullptr;
    std::atomic<std::size_t> next{0};
  };
  void work(Slot& slot);

  std::shared_ptr<http::CircuitBreaker> breaker_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  Job* job_ = nullptr;
  std::uint64_t generation_ = 0;
  std::size_t busy_ = 0;
  bool quit_ = false;
};

/// The upstream's answer for one title id (status and body) as a fetch outcome: a full release
/// through the same normalizer ingest uses. Exposed for unit tests.
Fetched interpret_release(std::int64_t id, int status, const std::string& body);

}  // namespace anipipe::sync
