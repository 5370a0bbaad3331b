#include "event_publisher.hpp"

#include <spdlog/spdlog.h>

#include "runtime/dead_letter.hpp"

namespace anipipe::ingest {

EventPublisher::EventPublisher(kafka::Producer& producer, const json::SchemaRegistry& schemas, metrics::Metrics& metrics,
                               RecentEventIds& recent, Options options)
    : producer_(producer), schemas_(schemas), metrics_(metrics), recent_(recent), options_(std::move(options)),
      schema_version_(schemas.version("anilibria.upstream.events")),
      dlq_schema_version_(schemas.version(runtime::kDeadLetterSchema)),
      messages_(prometheus::BuildCounter().Name("anipipe_ingest_messages_total")
                    .Help("Upstream messages by source and outcome (event, duplicate, rejected, ignored, unknown_type)")
                    .Register(metrics.registry())),
      unknown_types_(prometheus::BuildCounter().Name("anipipe_ingest_unknown_event_types_total")
                         .Help("v3 frames with a type this version does not know").Register(metrics.registry())) {}

void EventPublisher::count(std::string_view source, std::string_view outcome) {
  // Family::Add locks and hashes the labels; there are a handful of combinations, found by a
  // scan that allocates nothing (this runs for every upstream message).
  for (const auto& c : counters_)
    if (c.source == source && c.outcome == outcome) return c.counter->Increment();
  auto& counter = messages_.Add({{"source", std::string(source)}, {"outcome", std::string(outcome)}});
  counters_.push_back({std::string(source), std::string(outcome), &counter});
  counter.Increment();
}

void EventPublisher::publish(upstream::Normalized&& n, std::string_view raw, std::string_view source, std::string_view origin) {
  std::lock_guard lock(mutex_);
  ++stats_.messages;
  switch (n.status) {
    case upstream::Normalized::Status::ignored:
      ++stats_.ignored;
      count(source, "ignored");
      return;
    case upstream::Normalized::Status::unknown_type:
      ++stats_.unknown_types;
      count(source, "unknown_type");
      unknown_types_.Add({{"type", n.reason.substr(0, 64)}}).Increment();
      spdlog::warn("unknown upstream event type '{}' from {}; counted and skipped", n.reason, origin);
      return;
    case upstream::Normalized::Status::rejected:
      break;
    case upstream::Normalized::Status::event: {
      if (auto err = schemas_.validate("anilibria.upstream.events", n.json)) {
        // The normalizer produced something the contract forbids: keep the raw input for a fix and re-drive.
        n.status = upstream::Normalized::Status::rejected;
        n.reason = "normalized event violates schema anilibria.upstream.events: " + err->to_string();
        return publish(std::move(n), raw, source, origin);
      }
      if (!recent_.insert(n.event_id)) {
        ++stats_.duplicates;
        count(source, "duplicate");
        return;
      }
      ++stats_.events;
      count(source, "event");
      kafka::OutRecord out;
      out.topic = options_.topic;
      out.key = std::to_string(n.title_id);
      out.value = std::move(n.json);
      out.headers = kafka::EventHeaders::new_root("ingest", n.event_id, n.event_id);
      out.headers.schema = "anilibria.upstream.events";
      out.headers.schema_version = std::to_string(schema_version_);
      producer_.produce(out, [this, id = std::move(n.event_id)](const kafka::DeliveryResult& r) {
        std::lock_guard lock(mutex_);
        if (r.ok) {
          metrics_.record_out(options_.topic);
          return;
        }
        // Forget it, so the next poll or reconnect announces it again instead of losing it.
        ++stats_.delivery_failures;
        recent_.erase(id);
        metrics_.record_failed(options_.topic, "delivery");
        spdlog::error("event {} was not delivered: {}", id, r.error);
      });
      return;
    }
  }
  ++stats_.rejected;
  count(source, "rejected");
  spdlog::warn("dead-lettering upstream message from {}: {}", origin, n.reason);
  std::optional<std::string_view> key;
  std::string key_text;
  if (n.title_id > 0) key = key_text = std::to_string(n.title_id);
  producer_.produce(runtime::make_external_dead_letter(origin, key, raw, options_.dlq_topic, "ingest", n.reason,
                                                       dlq_schema_version_),
                    [this](const kafka::DeliveryResult& r) {
                      if (!r.ok) spdlog::error("dead letter not delivered: {}", r.error);
                      else metrics_.record_out(options_.dlq_topic);
                    });
}

}  // namespace anipipe::ingest
