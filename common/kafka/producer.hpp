#pragma once
// An idempotent producer (INTRODUCTION.md, "Idempotent Producer"): enable.idempotence=true, so
// retries never reorder or duplicate within a partition. Delivery reports run on the thread that
// calls poll()/flush(), so a single-threaded worker needs no locks around its offset bookkeeping.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/fatal_error.hpp"
#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

class Consumer;

struct DeliveryResult {
  bool ok = false;
  std::string error;
  /// A failed record that may have reached the broker all the same (it was in flight when it
  /// timed out): librdkafka's RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED. False: it certainly did not.
  bool possibly_persisted = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};
using DeliveryCallback = std::function<void(const DeliveryResult&)>;

/// A record to produce, by reference: nothing is copied until librdkafka copies it.
struct RecordView {
  struct Header {
    const char* name;
    std::string_view value;
  };
  std::string_view topic;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;  // nullopt: a tombstone
  std::span<const Header> headers;
  std::int32_t partition = -1;  // -1: the configured partitioner picks
};

/// Receives the delivery reports of records produced with it (on the thread that polls). For
/// high-rate producers: one handler for every record, nothing allocated per record.
class DeliveryHandler {
public:
  virtual ~DeliveryHandler() = default;
  /// value: the record's value as produced.
  virtual void on_delivery(const DeliveryResult& result, std::string_view value) noexcept = 0;
};

/// A transaction API failure, classified as librdkafka classifies it (INTRODUCTION.md, "Transactional Producer").
class TransactionError : public std::runtime_error {
public:
  enum class Kind { retriable, abortable, fatal };
  TransactionError(Kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
  Kind kind;
};

class Producer {
public:
  struct Options {
    /// Set for exactly-once (consume-transform-produce); must be stable per input partition set
    /// across restarts so a restarted instance fences its zombie predecessor.
    std::string transactional_id;
    /// Additional defaults (still overridable by Settings::overrides).
    std::map<std::string, std::string> defaults;
  };

  explicit Producer(const Settings& settings) : Producer(settings, Options{}) {}
  Producer(const Settings& settings, const Options& options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Enqueues a record. While librdkafka's local queue is full it polls (serving delivery reports)
  /// and tries again: back-pressure instead of loss. Throws on an unknown topic or a fatal error.
  void produce(const OutRecord& record, DeliveryCallback on_delivery = {});
  /// The same for a hot path: no allocation of ours per record; `handler` must outlive the
  /// record's delivery report.
  void produce(const RecordView& record, DeliveryHandler& handler);
  /// Learns a topic's partitions now, so that its first records are not held back until the next
  /// metadata refresh (up to a second in librdkafka 2.0 for a topic unknown when the producer
  /// connected). Throws if the topic does not exist.
  void prepare(const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Serves delivery reports; returns how many were served. Throws kafka::FatalError once the
  /// producer raised a fatal error (so does every call that produces or flushes).
  int poll(std::chrono::milliseconds timeout);
  /// Waits for every queued record to be delivered or fail; true if the queue drained in time.
  bool flush(std::chrono::milliseconds timeout);
  /// Records queued or in flight.
  int pending() const;

  void init_transactions(std::chrono::milliseconds timeout);
  void begin_transaction();
  /// Adds the consumer's positions (next offsets to read), each with its metadata, to the current transaction.
  void send_offsets_to_transaction(const Consumer& consumer, const std::vector<PartitionOffset>& next_offsets,
                                   std::chrono::milliseconds timeout);
  void commit_transaction(std::chrono::milliseconds timeout);
  void abort_transaction(std::chrono::milliseconds timeout);

private:
  /// Both produce()s: enqueues with `opaque` (see on_delivery), polling while the queue is full.
  void send(const RecordView& record, void* opaque);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anipipe::kafka
