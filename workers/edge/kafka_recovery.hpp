#pragma once
// A client's missed pushes read from Kafka by offset, for a `since` older than the in-memory
// history (StreamHistory::plan said kafka): the key's records of one partition from `since`+1 up
// to the seam live pushes start after. On threads of its own, never an I/O thread: each read
// opens a short-lived consumer. A range the log no longer has (retention) is a gap, not a silent
// hole; so is a position past the log's end (another log), a broker that does not answer, and
// more reads queued than --ws-recovery-pending allows.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "kafka/settings.hpp"
#include "push_messages.hpp"
#include "stream_history.hpp"

namespace anipipe::edge {

class KafkaRecovery {
public:
  using Format = std::function<std::optional<LivePush>(const kafka::Message&, std::uint32_t epoch)>;
  struct Source {
    std::string topic;
    Format format;
  };
  struct Result {
    std::string gap_reason;         // empty: recovered
    std::vector<Replayed> records;  // in offset order
  };

  KafkaRecovery(kafka::Settings settings, Source titles, Source notifications, std::size_t max_pending);
  ~KafkaRecovery();
  KafkaRecovery(const KafkaRecovery&) = delete;
  KafkaRecovery& operator=(const KafkaRecovery&) = delete;

  /// Waits for the reads under way (their results are posted to connections that are closing).
  void stop() { pool_.join(); }
  /// done runs on a recovery thread (or at once for a refused read).
  void fetch(Stream stream, std::string key, StreamPosition since, const RecoveryPlan& plan, std::function<void(Result)> done);

private:
  Result read(const Source& source, const std::string& key, const StreamPosition& since, const RecoveryPlan& plan) const;

  kafka::Settings settings_;
  Source titles_, notifications_;
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  boost::asio::thread_pool pool_{2};
};

}  // namespace anipipe::edge
