#include "runtime/dead_letter.hpp"

#include <string>

#include "json/json_writer.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace anipipe::runtime {

kafka::OutRecord make_dead_letter(const kafka::Message& failed, std::string_view dlq_topic, std::string_view worker,
                                  std::string_view error, int schema_version) {
  kafka::OutRecord out;
  out.topic = std::string(dlq_topic);
  if (auto k = failed.key()) out.key = std::string(*k);
  out.headers = failed.event_headers().child(worker, kDeadLetterSchema, schema_version);

  std::string body;
  json::Writer w(body);
  w.begin_object();
  w.field("error", error.empty() ? std::string_view("unspecified error") : error);
  w.field("worker", worker);
  w.key("source").begin_object();
  w.field("topic", failed.topic());
  w.field("partition", static_cast<std::int64_t>(failed.partition()));
  w.field("offset", failed.offset());
  const auto ts = failed.timestamp_ms();
  if (ts >= 0) w.field("timestamp_ms", ts); else w.key("timestamp_ms").null();
  w.end_object();
  auto key = failed.key();
  if (key && json::is_valid_utf8(*key)) w.field("key", *key); else w.key("key").null();
  auto value = failed.value();
  if (!value) w.key("value").null();
  else if (json::is_valid_utf8(*value)) w.field("value", *value);
  else w.field("value_base64", util::base64_encode(*value));
  int redrives = 0;
  if (auto r = failed.header("dlq-redrive-count")) redrives = std::atoi(std::string(*r).c_str());
  w.field("redrive_count", static_cast<std::int64_t>(redrives));
  w.field("failed_at", util::now_rfc3339());
  w.end_object();
  out.value = std::move(body);

  out.extra_headers = {
      {dlq_headers::source_topic, std::string(failed.topic())},
      {dlq_headers::source_partition, std::to_string(failed.partition())},
      {dlq_headers::source_offset, std::to_string(failed.offset())},
      {dlq_headers::error, std::string(error)},
      {dlq_headers::worker, std::string(worker)},
  };
  return out;
}

}  // namespace anipipe::runtime
