#pragma once
// A worker's logic, as the loops (runtime/consumer_loop.hpp) call it: one family, each loop taking
// exactly the interface it calls. Plain classes: unit-testable without Kafka.
//   PartitionHandler      what every loop says: partitions assigned and revoked;
//   RecordHandler         ConsumerLoop: one record at a time;
//   TransactionalHandler  TransactionalLoop: one record at a time, a transaction per batch, and
//                         what to produce beside a dead letter (a caller waiting for an answer);
//   BatchHandler          BatchLoop: a whole poll's records at once.
#include <string_view>
#include <vector>

#include "kafka/message.hpp"
#include "runtime/outcome.hpp"

namespace anipipe::runtime {

class PartitionHandler {
public:
  virtual ~PartitionHandler() = default;
  virtual void on_assigned(const std::vector<kafka::TopicPartition>&) {}
  virtual void on_revoked(const std::vector<kafka::TopicPartition>&) {}
};

class RecordHandler : public PartitionHandler {
public:
  /// Called only for records whose value passed its topic's schema (when the topic has one).
  /// May throw: the loop retries up to --max-attempts, then dead-letters with the exception text.
  virtual Handled handle(const kafka::Message& record) = 0;
};

class TransactionalHandler : public RecordHandler {
public:
  /// Called with each batch before its records are handled, so the batch's I/O can go out at once
  /// (sync fetches every title it needs concurrently).
  virtual void prepare_batch(const std::vector<kafka::Message>&) {}
  /// The batch's transaction was aborted and its records will be consumed again; state changed
  /// while handling them must be restored (e.g. re-read).
  virtual void on_transaction_aborted(const std::vector<kafka::TopicPartition>&) {}
  /// The loop is about to dead-letter this record: its value broke its topic's contract (handle()
  /// never saw it), handle() threw or answered dead_letter, or one of its outputs broke its
  /// contract. Returns records to produce beside the dead letter, in the same transaction, so a
  /// caller waiting for an answer hears back exactly when the dead letter is committed (sync
  /// answers a refused request `rejected`). The record may be anything: read it leniently. The
  /// outputs get headers and are checked like handle()'s; if one breaks its contract, or this
  /// throws, none is produced and the dead letter goes alone.
  virtual std::vector<kafka::OutRecord> on_dead_letter(const kafka::Message&, std::string_view /*reason*/) { return {}; }
  /// The lane of a record of a priority topic (TransactionalSettings::priority_topics): 0 low,
  /// 1 normal, 2 high. Read leniently: the record has not been checked against its schema yet.
  virtual int priority_lane(const kafka::Message&) { return 1; }
};

class BatchHandler : public PartitionHandler {
public:
  /// Records that passed their topic's schema, in consumption order. May throw: treated as retry.
  virtual BatchResult handle_batch(const std::vector<const kafka::Message*>& records) = 0;
};

}  // namespace anipipe::runtime
