#include "topic_tail.hpp"

#include <algorithm>
#include <cstdio>

#include "kafka/topic_reader.hpp"
#include "print_json.hpp"
#include "util/clock.hpp"

namespace anipipe::ops {

namespace {
std::string when(std::int64_t ms) {
  return ms < 0 ? std::string("-") : util::to_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}
}  // namespace

std::vector<TailRecord> read_tail(const kafka::Settings& kafka, const std::string& topic, std::size_t count, std::size_t max_value_bytes) {
  std::vector<TailRecord> out;
  // The newest `count` of each partition hold the newest `count` of the topic.
  kafka::read_to_end(kafka, topic, {}, kafka::ReadStart::last(static_cast<std::int64_t>(count)), [&](const kafka::Message& m) {
    TailRecord r;
    r.partition = m.partition();
    r.offset = m.offset();
    r.timestamp_ms = m.timestamp_ms();
    if (auto k = m.key()) r.key = std::string(*k);
    if (auto v = m.value()) {
      r.value = std::string(v->substr(0, max_value_bytes));
      if (v->size() > max_value_bytes) *r.value += "…(" + std::to_string(v->size()) + " bytes)";
    }
    r.headers = m.event_headers();
    if (auto c = m.header("dlq-redrive-count")) r.redrive_count = std::string(*c);
    out.push_back(std::move(r));
  });
  std::stable_sort(out.begin(), out.end(), [](const TailRecord& a, const TailRecord& b) {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms : a.offset < b.offset;
  });
  if (out.size() > count) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(count));
  return out;
}

void write_json(json::Writer& w, const std::vector<TailRecord>& records) {
  w.begin_array();
  for (const auto& r : records) {
    w.begin_object()
        .field("partition", static_cast<std::int64_t>(r.partition))
        .field("offset", r.offset)
        .field("time", when(r.timestamp_ms))
        .field("key", r.key)
        .field("value", r.value)
        .field("producer", r.headers.producer)
        .field("schema", r.headers.schema)
        .field("traceparent", r.headers.traceparent)
        .field("correlation_id", r.headers.correlation_id);
    if (!r.headers.observed_at.empty()) w.field("observed_at", r.headers.observed_at);
    if (!r.redrive_count.empty()) w.field("dlq_redrive_count", r.redrive_count);
    w.end_object();
  }
  w.end_array();
}

int print_tail(const kafka::Settings& kafka, const std::string& topic, std::size_t count, bool json) {
  const auto records = read_tail(kafka, topic, count, json ? 4096 : 200);
  if (json) {
    print_json(records);
    return 0;
  }
  for (const auto& r : records) {
    std::string value = r.value.value_or("(tombstone)");
    std::replace(value.begin(), value.end(), '\n', ' ');
    std::printf("%s  %d:%lld  key=%s  %s  %s\n", when(r.timestamp_ms).c_str(), r.partition, static_cast<long long>(r.offset),
                r.key.value_or("-").c_str(), r.headers.producer.empty() ? "-" : r.headers.producer.c_str(), value.c_str());
  }
  std::printf("%zu record(s) of %s\n", records.size(), topic.c_str());
  return 0;
}

}  // namespace anipipe::ops
