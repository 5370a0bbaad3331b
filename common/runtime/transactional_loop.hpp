#pragma once
// The exactly-once consume-transform-produce loop (docs/design.md, "Exactly once: sync"): records
// are handled in batches; each batch's outputs, dead letters and input offsets go into one Kafka
// transaction (send_offsets_to_transaction with the consumer's group metadata, KIP-447), so
// either all of a batch's effects become visible to read_committed readers with its offsets, or
// none do and the batch is consumed again.
//  - A restarted instance with the same transactional id fences its predecessor and aborts what
//    it left open; a zombie from an older group generation is fenced by the group coordinator.
//  - Rebalances happen only between batches (callbacks run inside poll, never mid-transaction).
//  - retry_later holds back only that record's partition: the batch commits what came before it
//    there (and everything of the other partitions), the partition is rewound to the record and
//    paused for a jittered backoff, so an outage behind one record does not stop the others.
//    The handler must not change its state for a record it answers retry_later.
//  - An abortable transaction error: abort, rewind the batch's partitions, tell the handler (its
//    state must forget the batch), back off, try again. A fatal error throws kafka::FatalError:
//    run_process starts the worker again with a new producer, whose init_transactions fences
//    this one and aborts what it left open, and a consumer that resumes from committed offsets.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "json/schema.hpp"
#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "runtime/consumer_loop.hpp"
#include "runtime/outcome.hpp"
#include "runtime/record_contract.hpp"
#include "util/backoff.hpp"

namespace anipipe::runtime {

struct TransactionalSettings {
  LoopSettings loop;
  std::string transactional_id;  // stable per instance
  std::size_t batch_max = 500;
  std::chrono::milliseconds batch_wait{100};
  /// Topics consumed ahead of records already waiting from the others (kafka::Consumer::Options).
  std::set<std::string> priority_topics;
};

class TransactionalLoop final : private kafka::RebalanceListener {
public:
  TransactionalLoop(TransactionalSettings settings, RecordHandler& handler, const json::SchemaRegistry& schemas,
                    metrics::Metrics& metrics);
  ~TransactionalLoop() override;
  int run(const std::atomic<bool>& stop);

private:
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) override;
  /// Rewinds tp to offset and pauses it for a backoff that grows with its consecutive retries.
  void hold_back(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& reason);
  void resume_due_partitions();

  struct Held {
    int retries = 0;
    bool paused = false;
    std::chrono::steady_clock::time_point resume_at{};
  };
  /// Handles one record into `outputs`; false if it must be retried later (its partition is held back).
  bool handle(const kafka::Message& msg, std::vector<kafka::OutRecord>& outputs, std::string& retry_reason);

  TransactionalSettings settings_;
  RecordHandler& handler_;
  const json::SchemaRegistry& schemas_;
  metrics::Metrics& metrics_;
  RecordContract contract_;
  util::Backoff backoff_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::map<kafka::TopicPartition, Held> held_;
};

}  // namespace anipipe::runtime
