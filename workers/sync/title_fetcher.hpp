#pragma once
// Full titles from the upstream (GET /anime/releases/{id}), many in flight through a client pool
// (one breaker for the upstream as a whole). sync hands it every id a batch needs at once.
//
// A fetch never throws: its outcome says what the upstream answered.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/title_document.hpp"
#include "http/client_pool.hpp"

namespace prometheus {
class Registry;
}

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
  TitleFetcher(const std::string& base_url, http::ClientOptions options, std::size_t concurrency, prometheus::Registry* metrics);

  /// Fetches every id, up to `concurrency` at a time; results in the order of ids. Returns early
  /// (the rest unavailable) once stop is set.
  std::vector<Fetched> fetch(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop);

  http::CircuitBreaker::State breaker_state() const { return pool_.breaker_state(); }

private:
  http::ClientPool pool_;
};

/// The upstream's answer for one title id (status and body) as a fetch outcome: a full release
/// through the same normalizer ingest uses. Exposed for unit tests.
Fetched interpret_release(std::int64_t id, int status, const std::string& body);

}  // namespace anipipe::sync
