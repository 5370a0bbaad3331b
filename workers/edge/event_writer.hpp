#pragma once
// What the edge publishes (sync requests, subscriptions, cache invalidations): each value checked
// against its topic's schema first (an invalid one is the client's 422, and nothing is produced),
// then produced and waited for, so a 202 means the broker has it. What the client is told is what
// happens: records time out at the answer's deadline (message.timeout.ms), so a record the edge
// answered 503 for is never written later when the broker comes back; one that was in flight when
// it timed out may or may not have been written, and says so (pending). Thread-safe: request
// threads produce, one thread serves delivery reports.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "edge_metrics.hpp"
#include "json/schema.hpp"
#include "kafka/producer.hpp"

namespace anipipe::edge {

struct WriteOutcome {
  /// written: the broker has it. invalid: refused by its schema, nothing produced. unavailable:
  /// certainly not written (it never reached the broker, and never will). pending: timed out in
  /// flight - the broker may have it; a retry with the same idempotency key is safe.
  enum class Status { written, invalid, unavailable, pending } status = Status::unavailable;
  std::string detail;
};

class EventWriter {
public:
  /// deadline: how long a record may take to be acknowledged (the answer waits that long).
  EventWriter(const kafka::Settings& settings, const json::SchemaRegistry& schemas, std::string worker,
              std::chrono::milliseconds deadline = std::chrono::seconds(5), EdgeMetrics* metrics = nullptr);
  ~EventWriter();

  /// value nullopt: a tombstone (compacted topics). schema: the contract's name (the topic's by default).
  WriteOutcome write(const std::string& topic, std::string_view schema, std::string key, std::optional<std::string> value,
                     const kafka::EventHeaders& cause);
  void set_metrics(EdgeMetrics* metrics) { metrics_ = metrics; }

private:
  const json::SchemaRegistry& schemas_;
  std::string worker_;
  std::chrono::milliseconds deadline_;
  std::atomic<EdgeMetrics*> metrics_;
  kafka::Producer producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace anipipe::edge
