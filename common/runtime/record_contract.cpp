#include "runtime/record_contract.hpp"

#include "runtime/consumer_loop.hpp"
#include "runtime/dead_letter.hpp"

namespace anipipe::runtime {

std::string_view RecordContract::schema_of(std::string_view topic) const {
  if (topic == settings_.options.dlq_topic) return kDeadLetterSchema;
  auto it = settings_.schema_names.find(topic);
  return it == settings_.schema_names.end() ? topic : std::string_view(it->second);
}

std::optional<std::string> RecordContract::reject_input(const kafka::Message& msg) const {
  const auto topic = msg.topic();
  const std::string_view schema = schema_of(topic);
  if (!schemas_.has_topic(schema)) return std::nullopt;
  const auto value = msg.value();
  if (!value) {
    // Tombstones are meaningful only on compacted topics, whose handlers see them directly.
    if (settings_.tombstone_topics.count(std::string(topic))) return std::nullopt;
    return "a null value (tombstone) is not valid on " + std::string(topic);
  }
  auto err = schemas_.validate(schema, *value);
  if (!err) return std::nullopt;
  const bool not_json = err->instance_path.empty() && err->message.starts_with("not JSON");
  return (not_json ? "value is " : "value violates schema " + std::string(schema) + ": ") + err->to_string();
}

std::optional<std::string> RecordContract::prepare_outputs(const kafka::Message& msg, std::vector<kafka::OutRecord>& outputs) const {
  const auto in_headers = msg.event_headers();
  for (auto& out : outputs)
    if (auto why = prepare_output(in_headers, out)) return why;
  return std::nullopt;
}

std::optional<std::string> RecordContract::prepare_output(const kafka::EventHeaders& input, kafka::OutRecord& out) const {
  const std::string_view schema = schema_of(out.topic);
  if (out.headers.traceparent.empty()) out.headers = input.child(settings_.worker, schema, schemas_.version(schema));
  if (out.value && schemas_.has_topic(schema))
    if (auto err = schemas_.validate(schema, *out.value))
      // Our own output breaking its contract is a bug; keep the input for a re-drive after the fix.
      return "output for " + out.topic + " violates its schema: " + err->to_string();
  return std::nullopt;
}

kafka::OutRecord RecordContract::dead_letter(const kafka::Message& msg, std::string_view reason) const {
  return make_dead_letter(msg, settings_.options.dlq_topic, settings_.worker, reason, schemas_.version(kDeadLetterSchema));
}

}  // namespace anipipe::runtime
