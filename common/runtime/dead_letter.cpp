#include "runtime/dead_letter.hpp"

#include <string>

#include "json/json_writer.hpp"
#include "kafka/event_headers.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace anipipe::runtime {

namespace {

struct Provenance {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
  int redrives = 0;
};

std::string envelope(const Provenance& from, std::optional<std::string_view> key, std::optional<std::string_view> value,
                     std::string_view worker, std::string_view error) {
  std::string body;
  json::Writer w(body);
  w.begin_object();
  w.field("error", error.empty() ? std::string_view("unspecified error") : error);
  w.field("worker", worker);
  w.key("source").begin_object();
  w.field("topic", from.topic);
  w.field("partition", static_cast<std::int64_t>(from.partition));
  w.field("offset", from.offset);
  if (from.timestamp_ms >= 0) w.field("timestamp_ms", from.timestamp_ms);
  else w.key("timestamp_ms").null();
  w.end_object();
  if (key && json::is_valid_utf8(*key)) w.field("key", *key);
  else w.key("key").null();
  if (!value) w.key("value").null();
  else if (json::is_valid_utf8(*value)) w.field("value", *value);
  else w.field("value_base64", util::base64_encode(*value));
  w.field("redrive_count", static_cast<std::int64_t>(from.redrives));
  w.field("failed_at", util::now_rfc3339());
  w.end_object();
  return body;
}

}  // namespace

kafka::OutRecord make_dead_letter(const kafka::Message& failed, std::string_view dlq_topic, std::string_view worker, std::string_view error,
                                  int schema_version) {
  kafka::OutRecord out;
  out.topic = std::string(dlq_topic);
  if (auto k = failed.key()) out.key = std::string(*k);
  out.headers = failed.event_headers().child(worker, kDeadLetterSchema, schema_version);
  Provenance from{failed.topic(), failed.partition(), failed.offset(), failed.timestamp_ms(), 0};
  if (auto r = failed.header("dlq-redrive-count")) from.redrives = std::atoi(std::string(*r).c_str());
  out.value = envelope(from, failed.key(), failed.value(), worker, error);
  out.extra_headers = {
      {kafka::header_names::dlq_source_topic, std::string(failed.topic())},
      {kafka::header_names::dlq_source_partition, std::to_string(failed.partition())},
      {kafka::header_names::dlq_source_offset, std::to_string(failed.offset())},
      {kafka::header_names::dlq_error, std::string(error)},
      {kafka::header_names::dlq_worker, std::string(worker)},
  };
  return out;
}

kafka::OutRecord make_external_dead_letter(std::string_view origin, std::optional<std::string_view> key, std::string_view raw,
                                           std::string_view dlq_topic, std::string_view worker, std::string_view error,
                                           int schema_version) {
  kafka::OutRecord out;
  out.topic = std::string(dlq_topic);
  if (key) out.key = std::string(*key);
  out.headers = kafka::EventHeaders::new_root(worker).child(worker, kDeadLetterSchema, schema_version);
  out.value = envelope(Provenance{origin}, key, raw, worker, error);
  out.extra_headers = {
      {kafka::header_names::dlq_source_topic, std::string(origin)},
      {kafka::header_names::dlq_source_partition, "-1"},
      {kafka::header_names::dlq_source_offset, "-1"},
      {kafka::header_names::dlq_error, std::string(error)},
      {kafka::header_names::dlq_worker, std::string(worker)},
  };
  return out;
}

}  // namespace anipipe::runtime
