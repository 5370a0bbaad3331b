#pragma once
// The runtime's three loops, one family: one contract (runtime/record_contract.hpp: JSON and the
// topic's schema checked on the way in, headers and schema names filled in on the way out, dead
// letters in one envelope), one outcome type (runtime/outcome.hpp: done, retry_later,
// dead_letter) and one handler family (runtime/handler.hpp), each loop calling only its own:
//  - ConsumerLoop (this file, RecordHandler): record by record, at least once. For a worker whose
//    effect is Kafka records only; the probe worker of the tests runs it, and it is the loop
//    scripts/bench-loops measures against raw librdkafka.
//  - BatchLoop (runtime/batch_loop.hpp, BatchHandler): at least once, a batch per poll handed over
//    at once, so a sink can pipeline its writes: cache (Redis pipelines), notify (webhooks and
//    pub/sub in flight together).
//  - TransactionalLoop (runtime/transactional_loop.hpp, TransactionalHandler): exactly once, a
//    Kafka transaction per batch, pipelined: sync, whose new_episode records must appear once.
//
// ConsumerLoop, the at-least-once consume-process-produce loop
// (docs/design.md, "Delivery semantics"):
//  - a record's offset is stored only after its effect is done: the handler returned and every
//    output (or its dead letter) was acknowledged by the broker, in partition order;
//  - not JSON, failing its topic's schema, or a permanent handler error -> anilibria.dlq, and the
//    partition keeps moving;
//  - retry_later pauses only that partition, rewinds to the record and retries with backoff;
//  - on revoke, in-flight outputs are flushed and stored offsets committed before the partitions
//    go; on SIGTERM/SIGINT the current record finishes, outputs are flushed, offsets committed,
//    and the consumer leaves the group, all within --shutdown-timeout.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/options.hpp"
#include "json/schema.hpp"
#include "kafka/consumer.hpp"
#include "kafka/offset_tracker.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "runtime/handler.hpp"
#include "runtime/record_contract.hpp"
#include "util/backoff.hpp"

namespace anipipe::runtime {

struct LoopSettings {
  std::string worker;               // name in logs, metrics, headers and dead letters
  std::vector<std::string> topics;  // input topics
  config::WorkerOptions options;
  std::string group_instance_id;           // static membership, optional
  std::set<std::string> tombstone_topics;  // compacted inputs whose null values reach the handler
  /// Topic -> schema name where they differ (a renamed or per-environment topic); by default a
  /// topic's schema has the topic's name, and the DLQ topic always uses anilibria.dlq's.
  std::map<std::string, std::string, std::less<>> schema_names;
  /// Where this worker's effects of an upstream change land, for anipipe_freshness_seconds
  /// (catalog, redis, webhook); empty: not measured here. Counted once a record's effects are done.
  std::string freshness_stage;
};

/// How soon a held partition whose rewind did not land (it raced a rebalance) tries again.
inline constexpr std::chrono::milliseconds kRewindRetry{200};

class ConsumerLoop final : private kafka::RebalanceListener {
public:
  ConsumerLoop(LoopSettings settings, RecordHandler& handler, const json::SchemaRegistry& schemas, metrics::Metrics& metrics);
  ~ConsumerLoop() override;

  /// Runs until stop is set; returns the process exit code.
  int run(const std::atomic<bool>& stop);

private:
  struct RetryState {
    std::int64_t offset = -1;
    int attempts = 0;    // consecutive failures of the record at offset
    int exceptions = 0;  // of which thrown by the handler (bounded by --max-attempts)
    std::chrono::steady_clock::time_point resume_at{};
    bool waiting = false;
  };

  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) override;

  void process(const kafka::Message& msg);
  void finish(const kafka::Message& msg, Handled handled);
  void produce_effects(const kafka::Message& msg, const std::vector<kafka::OutRecord>& outputs);
  void schedule_retry(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& reason);
  void resume_due_partitions();
  void store(const kafka::TopicPartition& tp, std::optional<std::int64_t> next);
  void on_delivery_failed(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& error);

  LoopSettings settings_;
  RecordHandler& handler_;
  metrics::Metrics& metrics_;
  RecordContract contract_;
  util::Backoff backoff_;
  kafka::OffsetTracker tracker_;
  std::map<kafka::TopicPartition, RetryState> retries_;
  // After a rewind, records past the rewind point that were already fetched are skipped until
  // the partition delivers the rewind offset again (belt and braces over librdkafka's seek barrier).
  std::map<kafka::TopicPartition, std::int64_t> rewound_to_;
  std::unique_ptr<kafka::Producer> producer_;
  // Declared last so it is destroyed first: closing it runs the final revoke, which still needs
  // the producer, the tracker and the handler above.
  std::unique_ptr<kafka::Consumer> consumer_;
};

}  // namespace anipipe::runtime
