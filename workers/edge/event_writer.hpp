#pragma once
// What the edge publishes (sync requests, subscriptions, cache invalidations): each value checked
// against its topic's schema first (an invalid one is the client's 422, and nothing is produced),
// then produced and waited for, so a 202 means the broker has it. Thread-safe: request threads
// produce, one thread serves delivery reports.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "json/schema.hpp"
#include "kafka/producer.hpp"

namespace anipipe::edge {

struct WriteOutcome {
  enum class Status { written, invalid, unavailable } status = Status::unavailable;
  std::string detail;
};

class EventWriter {
public:
  EventWriter(const kafka::Settings& settings, const json::SchemaRegistry& schemas, std::string worker);
  ~EventWriter();

  /// value nullopt: a tombstone (compacted topics). schema: the contract's name (the topic's by default).
  WriteOutcome write(const std::string& topic, std::string_view schema, std::string key, std::optional<std::string> value,
                     const kafka::EventHeaders& cause, std::chrono::milliseconds timeout);

private:
  const json::SchemaRegistry& schemas_;
  std::string worker_;
  kafka::Producer producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace anipipe::edge
