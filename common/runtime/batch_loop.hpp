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
#include "runtime/handler.hpp"
#include "runtime/record_contract.hpp"
#include "util/backoff.hpp"

namespace anipipe::runtime {

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
