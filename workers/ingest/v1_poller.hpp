#pragma once
// The live AniLiberty v1 API has no push channel (ANILIBRIA-API.md §4.10): poll
// /anime/releases/latest and /anime/schedule/now, normalize every item, and let the content-derived
// event ids decide what is new. A release whose fresh_at/updated_at or latest_episode changed has
// new content, so a new id, so it is announced; an unchanged one is recognised and dropped. The
// ids announced before a restart are recalled from the topic, so a restart neither floods nor
// misses: the feed itself is the cursor.
#include <atomic>
#include <chrono>
#include <string>

#include "event_publisher.hpp"
#include "http/client.hpp"
#include "upstream/normalizer.hpp"

namespace anipipe::ingest {

struct V1PollerOptions {
  std::chrono::milliseconds interval{30'000};
  int limit = 50;
  bool schedule = true;
};

class V1Poller {
public:
  V1Poller(V1PollerOptions options, http::Client& client, upstream::Normalizer& normalizer, EventPublisher& publisher)
      : options_(options), client_(client), normalizer_(normalizer), publisher_(publisher) {}

  /// One round over every endpoint. Returns false if an endpoint could not be read (outage,
  /// circuit open): nothing was skipped, the next round reads it again.
  bool poll_once(const std::atomic<bool>& stop);

private:
  bool poll_endpoint(const std::string& target, const char* endpoint, const std::atomic<bool>& stop);

  V1PollerOptions options_;
  http::Client& client_;
  upstream::Normalizer& normalizer_;
  EventPublisher& publisher_;
};

}  // namespace anipipe::ingest
