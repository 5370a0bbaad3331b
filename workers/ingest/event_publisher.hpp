#pragma once
// The end of every ingest source: a normalized message becomes a record in
// anilibria.upstream.events (keyed by title id, traced by its event id; the normalizer checked it
// against its schema), a duplicate is dropped, and what cannot be normalized goes to anilibria.dlq
// with the raw text.
#include <prometheus/counter.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "json/schema.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "recent_event_ids.hpp"
#include "topic_names.hpp"
#include "upstream/normalizer.hpp"

namespace anipipe::ingest {

struct PublisherStats {
  std::uint64_t messages = 0, events = 0, duplicates = 0, rejected = 0, ignored = 0, unknown_types = 0, delivery_failures = 0;
};

class EventPublisher final : private kafka::DeliveryHandler {
public:
  struct Options {
    std::string topic = topic_names::kUpstreamEvents;
    std::string dlq_topic = topic_names::kDlq;
  };
  EventPublisher(kafka::Producer& producer, const json::SchemaRegistry& schemas, metrics::Metrics& metrics, RecentEventIds& recent,
                 Options options);

  /// Handles one upstream message (normalized by a Normalizer that checks the contract). source: "v1", "v3" or "replay" (metrics label); origin: where
  /// it came from, for dead letters ("upstream:/anime/releases/latest", "replay:file.ndjson:12").
  void publish(const upstream::Normalized& n, std::string_view raw, std::string_view source, std::string_view origin);
  PublisherStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

private:
  void count(std::string_view source, std::string_view outcome);
  void dead_letter(std::int64_t title_id, std::string_view reason, std::string_view raw, std::string_view source, std::string_view origin);
  /// An event's delivery report: every event is produced with this publisher as its handler.
  void on_delivery(const kafka::DeliveryResult& r, std::string_view value) noexcept override;

  kafka::Producer& producer_;
  metrics::Metrics& metrics_;
  RecentEventIds& recent_;
  Options options_;
  // Sources may run on their own threads (the v3 WebSocket beside the v1 poller). Recursive:
  // produce() may serve delivery reports, whose callbacks take the lock again.
  mutable std::recursive_mutex mutex_;
  int schema_version_;
  std::string schema_version_text_;
  int dlq_schema_version_;
  PublisherStats stats_;
  prometheus::Counter& delivered_;  // metrics' out-counter of options_.topic
  prometheus::Family<prometheus::Counter>& messages_;
  prometheus::Family<prometheus::Counter>& unknown_types_;
  struct LabelledCounter {
    std::string source, outcome;
    prometheus::Counter* counter;
  };
  std::vector<LabelledCounter> counters_;
};

}  // namespace anipipe::ingest
