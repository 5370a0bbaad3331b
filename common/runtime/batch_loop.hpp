#pragma once
// The at-least-once loop for sinks that apply records to an external store in batches (cache:
// Redis): one batch per poll (whatever is already fetched, up to --batch-max), handed to the
// handler at once so it can pipeline its writes.
//  - done: the batch's dead letters are produced and acknowledged, then every partition's offset
//    is stored past the batch (committed in the background, on revoke and on close);
//  - retry: nothing is stored; every partition of the batch is rewound to its first record and
//    paused for a jittered backoff (the store is down or slow), then the whole batch comes again,
//    so the handler's effects must be idempotent;
//  - not JSON / failing the topic's schema / the handler's per-record verdict: anilibria.dlq.
// Batches are handled between polls, so a rebalance never happens mid-batch.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "json/schema.hpp"
#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "runtime/batch_span.hpp"
#include "runtime/consumer_loop.hpp"
#include "runtime/outcome.hpp"
#include "runtime/record_contract.hpp"
#include "util/backoff.hpp"

namespace anipipe::runtime {

/// What a batch handler says about a batch, in the per-record path's terms (runtime/outcome.hpp):
/// done (with per-record dead letters), or retry_later for the whole batch.
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

class BatchHandler {
public:
  virtual ~BatchHandler() = default;
  /// Records that passed their topic's schema, in consumption order. May throw: treated as retry.
  virtual BatchResult handle_batch(const std::vector<const kafka::Message*>& records) = 0;
  virtual void on_assigned(const std::vector<kafka::TopicPartition>&) {}
  virtual void on_revoked(const std::vector<kafka::TopicPartition>&) {}
};

struct BatchSettings {
  LoopSettings loop;
  std::size_t batch_max = 1000;
};

class BatchLoop final : private kafka::RebalanceListener {
public:
  BatchLoop(BatchSettings settings, BatchHandler& handler, const json::SchemaRegistry& schemas, metrics::Metrics& metrics);
  ~BatchLoop() override;
  int run(const std::atomic<bool>& stop);

private:
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) override;
  void hold_back(const BatchSpan& span, const std::string& reason);
  void resume_due_partitions();

  // A held partition is paused and rewound; what it delivers until resumed comes again.
  struct Held {
    std::chrono::steady_clock::time_point resume_at{};
  };

  BatchSettings settings_;
  BatchHandler& handler_;
  metrics::Metrics& metrics_;
  RecordContract contract_;
  util::Backoff backoff_;
  int failures_ = 0;
  std::map<kafka::TopicPartition, Held> held_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;  // last: closed first, while the rest still exists
};

}  // namespace anipipe::runtime
