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
//  - Priority topics are read ahead into a window (runtime/priority_window.hpp) and batches take
//    their records by priority and age instead of in offset order, a key's in offset order. The
//    transaction commits such a partition's lowest offset not handled, with the ranges handled
//    ahead of it in the commit's metadata; the window restores both when the partition is
//    assigned (and skips what they say is handled), so out-of-order stays exactly-once. Metrics:
//    anipipe_priority_wait_seconds{topic,priority} (in the window until a batch took it) and
//    anipipe_priority_overtakes_total (taken before a lower offset of its partition).
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
#include "runtime/priority_window.hpp"
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
  /// The priority topics' read-ahead (capacity 0: consumed in offset order like the others).
  PriorityWindowOptions priority_window;
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
  // The priority topics' read-ahead (transactional_window.cpp).
  bool windowed(const kafka::TopicPartition& tp) const;
  /// A partition is paused: held back, or its window full. Its records come again.
  bool paused(const kafka::TopicPartition& tp) const;
  /// The window's state of tp from the group's committed offset and metadata.
  void restore_window(const kafka::TopicPartition& tp);
  /// A record of a windowed partition into the window (or skipped, or its partition rewound: full).
  void admit(kafka::Message m);
  /// Everything already fetched from the priority topics into the window, without waiting.
  void drain_priority(const std::atomic<bool>& stop);
  /// Fills the batch up to batch_max from the window, by priority, ahead of its other records.
  void take_from_window(std::vector<kafka::Message>& batch);
  void observe_wait(const PriorityWindow::Pick& p);
  /// Drops tp's waiting records: the offset to consume it from again (to_committed: also what
  /// was handled since its last commit, an aborted transaction).
  std::int64_t rewind_window(const kafka::TopicPartition& tp, bool to_committed);
  void forget_window(const kafka::TopicPartition& tp);
  /// Resumes the partitions paused for a full window that has room again.
  void resume_windowed();
  void register_window_metrics();

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
  /// What a commit now says of the windowed partitions of span: offset, metadata, the state.
  std::map<kafka::TopicPartition, HandledOffsets> window_states(const BatchSpan& span) const;
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
    std::map<kafka::TopicPartition, HandledOffsets> windows;  // the windowed partitions' committed state, once it is in
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
  PriorityWindow window_;
  std::map<kafka::TopicPartition, std::map<std::int64_t, kafka::Message>> window_records_;  // what waits in it
  std::set<kafka::TopicPartition> full_;                                                    // paused: its window is full
  prometheus::Family<prometheus::Histogram>* wait_family_ = nullptr;
  std::map<std::pair<std::string, std::size_t>, prometheus::Histogram*> wait_histograms_;
  prometheus::Counter* overtakes_ = nullptr;
};

}  // namespace anipipe::runtime
