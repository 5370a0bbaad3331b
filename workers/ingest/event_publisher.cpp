#include "event_publisher.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "runtime/dead_letter.hpp"
#include "topic_names.hpp"
#include "util/clock.hpp"

namespace anipipe::ingest {

EventPublisher::EventPublisher(kafka::Producer& producer, const json::SchemaRegistry& schemas, metrics::Metrics& metrics,
                               RecentEventIds& recent, Options options)
    : producer_(producer), metrics_(metrics), recent_(recent), options_(std::move(options)),
      schema_version_(schemas.version(topic_names::kUpstreamEvents)), schema_version_text_(std::to_string(schema_version_)),
      dlq_schema_version_(schemas.version(runtime::kDeadLetterSchema)), delivered_(metrics.out_counter(options_.topic)),
      messages_(prometheus::BuildCounter()
                    .Name("anipipe_ingest_messages_total")
                    .Help("Upstream messages by source and outcome (event, duplicate, rejected, ignored, unknown_type)")
                    .Register(metrics.registry())),
      unknown_types_(prometheus::BuildCounter()
                         .Name("anipipe_ingest_unknown_event_types_total")
                         .Help("v3 frames with a type this version does not know")
                         .Register(metrics.registry())) {}

void EventPublisher::count(std::string_view source, std::string_view outcome) {
  // Family::Add locks and hashes the labels; there are a handful of combinations, found by a
  // scan that allocates nothing (this runs for every upstream message).
  for (const auto& c : counters_)
    if (c.source == source && c.outcome == outcome) return c.counter->Increment();
  auto& counter = messages_.Add({{"source", std::string(source)}, {"outcome", std::string(outcome)}});
  counters_.push_back({std::string(source), std::string(outcome), &counter});
  counter.Increment();
}

void EventPublisher::publish(const upstream::Normalized& n, std::string_view raw, std::string_view source, std::string_view origin) {
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
    case upstream::Normalized::Status::rejected: return dead_letter(n.title_id, n.reason, raw, source, origin);
    case upstream::Normalized::Status::event: break;
  }
  const std::string_view id = n.event_id();
  if (!recent_.insert(id)) {
    ++stats_.duplicates;
    count(source, "duplicate");
    return;
  }
  ++stats_.events;
  count(source, "event");
  // Built on the stack: this runs for every event of a replay. The trace id is the event id, so
  // duplicates share a trace; the span is new.
  char key[24];
  const auto key_end = std::to_chars(key, key + sizeof key, n.title_id).ptr;
  char traceparent[kafka::kTraceparentSize];
  // A live observation (a poll, a WebSocket frame) says when it was seen, for the freshness of its
  // effects downstream; a replay's or a sweep's time is no upstream change's.
  char observed[24];
  const bool live = source == "v1" || source == "v3";
  const auto observed_end = live ? std::to_chars(observed, observed + sizeof observed, util::now_unix_ms()).ptr : observed;
  const kafka::RecordView::Header headers[] = {
      {kafka::header_names::traceparent, kafka::write_traceparent(id, traceparent)},
      {kafka::header_names::correlation_id, id},
      {kafka::header_names::schema, topic_names::kUpstreamEvents},
      {kafka::header_names::schema_version, schema_version_text_},
      {kafka::header_names::producer, "ingest"},
      {kafka::header_names::observed_at, std::string_view(observed, static_cast<std::size_t>(observed_end - observed))},
  };
  const std::span<const kafka::RecordView::Header> sent(headers, live ? std::size(headers) : std::size(headers) - 1);
  producer_.produce(kafka::RecordView{options_.topic, std::string_view(key, static_cast<std::size_t>(key_end - key)), n.json, sent}, *this);
}

void EventPublisher::on_delivery(const kafka::DeliveryResult& r, std::string_view value) noexcept {
  std::lock_guard lock(mutex_);
  if (r.ok) {
    delivered_.Increment();
    return;
  }
  // Forget it, so the next poll or reconnect announces it again instead of losing it.
  const std::string_view id = upstream::event_id_of(value);
  ++stats_.delivery_failures;
  recent_.erase(id);
  metrics_.record_failed(options_.topic, "delivery");
  spdlog::error("event {} was not delivered: {}", id, r.error);
}

void EventPublisher::dead_letter(std::int64_t title_id, std::string_view reason, std::string_view raw, std::string_view source,
                                 std::string_view origin) {
  ++stats_.rejected;
  count(source, "rejected");
  // By origin without its line number ("upstream:/anime/releases/latest", "replay:file.ndjson"): few series.
  metrics_.dead_lettered(origin.substr(0, origin.find(':', origin.find(':') + 1)));
  spdlog::warn("dead-lettering upstream message from {}: {}", origin, reason);
  std::optional<std::string_view> key;
  std::string key_text;
  if (title_id > 0) key = key_text = std::to_string(title_id);
  producer_.produce(runtime::make_external_dead_letter(origin, key, raw, options_.dlq_topic, "ingest", reason, dlq_schema_version_),
                    [this](const kafka::DeliveryResult& r) {
                      if (!r.ok) spdlog::error("dead letter not delivered: {}", r.error);
                      else metrics_.record_out(options_.dlq_topic);
                    });
}

}  // namespace anipipe::ingest
