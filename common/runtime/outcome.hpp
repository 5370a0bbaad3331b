#pragma once
// What a handler says about one record. The consumer loop turns it into Kafka actions:
//   done        -> produce the outputs; store the offset once every output is acknowledged;
//   retry_later -> pause the partition, rewind to this record, try again after a backoff
//                  (outages: nothing is skipped, nothing committed early; no attempt limit);
//   dead_letter -> produce the record to the DLQ with the reason; the partition moves on.
#include <string>
#include <utility>
#include <vector>

#include "kafka/message.hpp"

namespace anipipe::runtime {

enum class Outcome { done, retry_later, dead_letter };

struct Handled {
  Outcome outcome = Outcome::done;
  std::string reason;
  /// Records to produce as this record's effect. Empty headers are filled in by the loop
  /// (a child of the input's trace, this topic's schema name and version, this worker).
  std::vector<kafka::OutRecord> outputs;

  static Handled done(std::vector<kafka::OutRecord> outputs = {}) { return {Outcome::done, {}, std::move(outputs)}; }
  static Handled retry_later(std::string reason) { return {Outcome::retry_later, std::move(reason), {}}; }
  static Handled dead_letter(std::string reason) { return {Outcome::dead_letter, std::move(reason), {}}; }
};

/// A worker's per-record logic. A plain class: unit-testable without Kafka.
class RecordHandler {
public:
  virtual ~RecordHandler() = default;
  /// Called only for records whose value passed its topic's schema (when the topic has one).
  /// May throw: the loop retries up to --max-attempts, then dead-letters with the exception text.
  virtual Handled handle(const kafka::Message& record) = 0;
  /// Transactional loop only: called with each batch before its records are handled, so the
  /// batch's I/O can go out at once (sync fetches every title it needs concurrently).
  virtual void prepare_batch(const std::vector<kafka::Message>&) {}
  virtual void on_assigned(const std::vector<kafka::TopicPartition>&) {}
  virtual void on_revoked(const std::vector<kafka::TopicPartition>&) {}
  /// Transactional loop only: the batch's transaction was aborted and its records will be
  /// consumed again; state changed while handling them must be restored (e.g. re-read).
  virtual void on_transaction_aborted(const std::vector<kafka::TopicPartition>&) {}
};

}  // namespace anipipe::runtime
