#pragma once
// The live AniLiberty v1 API has no push channel (docs/upstream.md, "Generations and hosts"): poll
// /anime/releases/latest and /anime/schedule/now, normalize every item, and let the content-derived
// event ids decide what is new. A release whose fresh_at/updated_at or latest_episode changed has
// new content, so a new id, so it is announced; an unchanged one is recognised and dropped.
//
// A poll sees only the latest --v1-limit releases. Whenever ingest may have missed what lies
// beyond them - at start (it was down), after a poll that failed (an outage, the breaker open), and
// when a whole page is newer than the high-water mark (more changed since the last poll than one
// page holds) - it catches up: it pages back through /anime/catalog/releases, newest first, until
// it meets the mark, publishing what changed. The walk is bounded (--catchup-max-pages); what it
// cannot reach the reconciliation sweep repairs.
#include <atomic>
#include <chrono>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "event_publisher.hpp"
#include "high_water_mark.hpp"
#include "http/client.hpp"
#include "upstream/normalizer.hpp"

namespace anipipe::ingest {

struct V1PollerOptions {
  std::chrono::milliseconds interval{30'000};
  int limit = 50;
  bool schedule = true;
  int catchup_max_pages = 200;
  int catchup_page_size = 50;  // the API's cap
};

class V1Poller {
public:
  V1Poller(V1PollerOptions options, http::Client& client, upstream::Normalizer& normalizer, EventPublisher& publisher, HighWaterMark& mark,
           prometheus::Registry& metrics);

  /// One round over every endpoint (and a catch-up if one is owed). Returns false if an endpoint
  /// could not be read (outage, circuit open): nothing was skipped, the next round reads it again
  /// and catches up on what it could not see meanwhile.
  bool poll_once(const std::atomic<bool>& stop);

private:
  struct Seen {
    bool ok = false;
    std::size_t items = 0;
    std::optional<HighWaterMark::Time> newest, oldest;
  };
  Seen poll_endpoint(const std::string& target, const char* endpoint, const std::atomic<bool>& stop);
  /// Pages back to the mark; true if it got there (or to the end, or to the page bound).
  bool catch_up(const std::atomic<bool>& stop);
  void owe_catch_up(const char* why);

  V1PollerOptions options_;
  http::Client& client_;
  upstream::Normalizer& normalizer_;
  EventPublisher& publisher_;
  HighWaterMark& mark_;
  const char* catch_up_owed_ = nullptr;             // why, while one is owed
  std::optional<HighWaterMark::Time> seen_newest_;  // this round's, for the mark once nothing is owed
  prometheus::Family<prometheus::Counter>& catchups_;
  prometheus::Counter& catchup_pages_;
  prometheus::Gauge& mark_gauge_;
};

}  // namespace anipipe::ingest
