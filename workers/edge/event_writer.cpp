#include "event_writer.hpp"

#include <future>

namespace anipipe::edge {

using namespace std::chrono_literals;

namespace {
kafka::Producer::Options answer_deadline(std::chrono::milliseconds deadline) {
  kafka::Producer::Options o;
  // The answer's deadline is the record's: after it the record is failed, never sent later.
  o.defaults["message.timeout.ms"] = std::to_string(deadline.count());
  // An internal write is a person or a service waiting: no batching delay.
  o.defaults["linger.ms"] = "0";
  return o;
}
}  // namespace

EventWriter::EventWriter(const kafka::Settings& settings, const json::SchemaRegistry& schemas, std::string worker,
                         std::chrono::milliseconds deadline, EdgeMetrics* metrics)
    : schemas_(schemas), worker_(std::move(worker)), deadline_(deadline), metrics_(metrics),
      producer_(settings, answer_deadline(deadline)) {
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
                                const kafka::EventHeaders& cause) {
  auto outcome = [this](WriteOutcome::Status status, std::string detail, std::string_view label) {
    if (auto* m = metrics_.load()) m->write(label);
    return WriteOutcome{status, std::move(detail)};
  };
  if (value && schemas_.has_topic(schema))
    if (auto err = schemas_.validate(schema, *value)) return outcome(WriteOutcome::Status::invalid, err->to_string(), "invalid");
  kafka::OutRecord record;
  record.topic = topic;
  record.key = std::move(key);
  record.value = std::move(value);
  record.headers = cause.child(worker_, schema, schemas_.has_topic(schema) ? schemas_.version(schema) : 1);
  auto done = std::make_shared<std::promise<kafka::DeliveryResult>>();
  auto result = done->get_future();
  struct InFlight {
    prometheus::Gauge* gauge;
    explicit InFlight(prometheus::Gauge* g) : gauge(g) {
      if (gauge) gauge->Increment();
    }
    ~InFlight() {
      if (gauge) gauge->Decrement();
    }
  } in_flight(metrics_.load() ? &metrics_.load()->writes_in_flight() : nullptr);
  try {
    producer_.produce(record, [done](const kafka::DeliveryResult& r) { done->set_value(r); });
  } catch (const std::exception& e) {
    return outcome(WriteOutcome::Status::unavailable, e.what(), "failed");
  }
  // The report comes by the record's deadline (librdkafka checks timeouts about once a second).
  if (result.wait_for(deadline_ + 1500ms) != std::future_status::ready)
    return outcome(WriteOutcome::Status::pending, "Kafka did not report on the record within " + std::to_string(deadline_.count()) + " ms",
                   "pending");
  const auto r = result.get();
  if (r.ok) return outcome(WriteOutcome::Status::written, {}, "written");
  if (r.possibly_persisted)
    return outcome(WriteOutcome::Status::pending, "timed out in flight: the broker may have it (" + r.error + ")", "pending");
  return outcome(WriteOutcome::Status::unavailable, "not written: " + r.error, "timed_out");
}

}  // namespace anipipe::edge
