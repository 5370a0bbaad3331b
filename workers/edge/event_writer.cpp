#include "event_writer.hpp"

#include <future>

namespace anipipe::edge {

using namespace std::chrono_literals;

EventWriter::EventWriter(const kafka::Settings& settings, const json::SchemaRegistry& schemas, std::string worker)
    : schemas_(schemas), worker_(std::move(worker)), producer_(settings) {
  poller_ = std::thread([this] {
    while (!stop_.load()) producer_.poll(50ms);
  });
}

EventWriter::~EventWriter() {
  producer_.flush(5s);
  stop_ = true;
  poller_.join();
}

WriteOutcome EventWriter::write(const std::string& topic, std::string_view schema, std::string key, std::optional<std::string> value,
                                const kafka::EventHeaders& cause, std::chrono::milliseconds timeout) {
  if (value && schemas_.has_topic(schema))
    if (auto err = schemas_.validate(schema, *value)) return {WriteOutcome::Status::invalid, err->to_string()};
  kafka::OutRecord record;
  record.topic = topic;
  record.key = std::move(key);
  record.value = std::move(value);
  record.headers = cause.child(worker_, schema, schemas_.has_topic(schema) ? schemas_.version(schema) : 1);
  auto done = std::make_shared<std::promise<kafka::DeliveryResult>>();
  auto result = done->get_future();
  try {
    producer_.produce(record, [done](const kafka::DeliveryResult& r) { done->set_value(r); });
  } catch (const std::exception& e) {
    return {WriteOutcome::Status::unavailable, e.what()};
  }
  if (result.wait_for(timeout) != std::future_status::ready)
    return {WriteOutcome::Status::unavailable, "Kafka did not acknowledge within " + std::to_string(timeout.count()) + " ms"};
  const auto r = result.get();
  if (!r.ok) return {WriteOutcome::Status::unavailable, r.error};
  return {WriteOutcome::Status::written, {}};
}

}  // namespace anipipe::edge
