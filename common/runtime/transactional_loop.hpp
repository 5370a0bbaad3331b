#pragma once
// The exactly-once consume-transform-produce loop (docs/design.md, "Exactly once: sync"): records
// are handled in batches; each batch's outputs, dead letters and input offsets go into one Kafka
// transaction (send_offsets_to_transaction with the consumer's group metadata, KIP-447), so
// either all of a batch's effects become visible to read_committed readers with its offsets, or
// none do and the batch is consumed again.
//  - A restarted instance with the same transactional id fences its predecessor and aborts what
//    it left open; a zombie from an older group generation is fenced by the group coordinator.
//  - Pipelined: while one batch's offsets and commit are on their way (two and one round trips,
//    on a helper thread), the next batch is collected and handled; its outputs are produced once
//    that commit is in, in a transaction of its own. So the handler runs ahead of what is
//    committed by at most one batch, and an aborted transaction takes that batch back with it.
//  - Rebalances happen only between transactions: the callbacks run inside poll and first wait
//    for the commit in flight (so a revoked partition's offsets are in before it is given away).
//  - retry_later holds back only that record's partition: the batch commits what came before it
//    there (and everything of the other partitions), the partition is rewound to the record and
//    paused for a jittered backoff, so an outage behind one record does not stop the others.
//    The handler must not change its state for a record it answers retry_later.
//  - A dead letter may bring outputs of the handler's (TransactionalHandler::on_dead_letter) into
//    its transaction: sync's `rejected` answer to a refused request, visible with the dead letter.
//  - An abortable transaction error: abort, rewind the batch's partitions, tell the handler (its
//    state must forget the batch), back off, try again. A fatal error throws kafka::FatalError:
//    run_process starts the worker again with a new producer, whose init_transactions fences
//    this one and aborts what it left open, and a consumer that resumes from committed offsets.
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

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

struct TransactionalSettings {
  LoopSettings loop;
  std::string transactional_id;  // stable per instance
  std::size_t batch_max = 2000;
  std::chrono::milliseconds batch_wait{100};
  /// Topics consumed ahead of records already waiting from the others (kafka::Consumer::Options).
  std::set<std::string> priority_topics;
};

class TransactionalLoop final : private kafka::RebalanceListener {
public:
  TransactionalLoop(TransactionalSettings settings, TransactionalHandler& handler, const json::SchemaRegistry& schemas,
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
  /// The dead letter of msg and what the handler produces beside it, into `outputs`.
  void dead_letter(const kafka::Message& msg, const std::string& reason, std::vector<kafka::OutRecord>& outputs);
  std::vector<kafka::Message> collect_batch(const std::atomic<bool>& stop);
  /// A handled batch: what its transaction covers and what to do once it is committed.
  struct HandledBatch {
    BatchSpan span;
    std::size_t records = 0;
    std::vector<kafka::OutRecord> outputs;
    std::map<kafka::TopicPartition, std::pair<std::int64_t, std::string>> retry_at;  // offset, reason
  };
  HandledBatch handle_batch(const std::vector<kafka::Message>& batch);
  /// Begins the batch's transaction, produces its outputs and sends its offsets and commit on
  /// their way (a helper thread); empty, or why the transaction must be aborted.
  std::string start_commit(HandledBatch& batch);
  /// A commit that failed: what it covered, and why its transaction must be aborted.
  struct FailedCommit {
    BatchSpan span;
    std::string reason;
  };
  /// Waits for the commit in flight, if any: nullopt if it is in (or none was). Throws
  /// kafka::FatalError if it failed fatally.
  std::optional<FailedCommit> settle();
  /// settle() inside a rebalance callback: a failure is kept for the loop (nothing throws through librdkafka).
  void settle_in_callback();
  /// Aborts the open transaction, rewinds the partitions of `spans` to their first offsets,
  /// pauses them for a backoff and lets the handler forget what it did for them.
  void abort_and_rewind(const std::vector<const BatchSpan*>& spans, const std::string& reason, const std::atomic<bool>& stop);

  struct InFlight {
    BatchSpan span;
    std::size_t records = 0;
    std::vector<std::string> observed_at;  // freshness, once the commit is in
    std::set<kafka::TopicPartition> retried;
    std::future<std::string> done;
  };
  std::optional<InFlight> in_flight_;
  /// A commit that failed while a rebalance callback waited for it: its span and reason, or a fatal error.
  std::optional<FailedCommit> failed_in_callback_;
  std::exception_ptr fatal_in_callback_;
  int failures_ = 0;

  TransactionalSettings settings_;
  TransactionalHandler& handler_;
  metrics::Metrics& metrics_;
  RecordContract contract_;
  util::Backoff backoff_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::map<kafka::TopicPartition, Held> held_;
};

}  // namespace anipipe::runtime
