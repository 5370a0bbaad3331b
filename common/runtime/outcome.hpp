#pragma once
// What a handler says about one record (Handled) or a batch (BatchResult). The loops turn it into
// Kafka actions:
//   done        -> produce the outputs; store the offset once every output is acknowledged;
//   retry_later -> pause the partition, rewind to this record, try again after a backoff
//                  (outages: nothing is skipped, nothing committed early; no attempt limit);
//   dead_letter -> produce the record to the DLQ with the reason; the partition moves on.
#include <cstddef>
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

/// What a batch handler (runtime/handler.hpp) says about a batch, in the same terms: done (with
/// per-record dead letters), or retry_later for the whole batch.
struct BatchResult {
  Outcome outcome = Outcome::done;  // done or retry_later; a dead letter is per record, below
  std::string reason;               // why to retry
  /// Records (index into the batch handed over) that can never be applied, with the reason.
  std::vector<std::pair<std::size_t, std::string>> dead_letters;
  /// Partitions to consume again from their beginning (the store lost what they built, e.g. a
  /// Redis restarted without persistence); their offsets are not stored for this batch.
  std::vector<kafka::TopicPartition> rewind_to_start;

  static BatchResult done() { return {}; }
  static BatchResult retry_later(std::string why) {
    BatchResult r;
    r.outcome = Outcome::retry_later;
    r.reason = std::move(why);
    return r;
  }
};

}  // namespace anipipe::runtime
