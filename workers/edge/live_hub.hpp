#pragma once
// Who is listening on the WebSocket: per title (subscribe_title) and per user (an authenticated
// connection gets its own anilibria.notifications). The feeds publish; each connection's sink
// queues the message on its own strand, bounded (a slow client is dropped, not buffered).
// Beside them, per live topic, the recent history (StreamHistory) a returning client is replayed
// from: a subscription and its recovery plan are taken under the same lock as a publish records
// and fans out, so every record is either in the plan or pushed live to the new subscriber.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "edge_metrics.hpp"
#include "push_messages.hpp"
#include "stream_history.hpp"

namespace anipipe::edge {

class KafkaRecovery;

/// One push to one connection. offset: the record's (-1 for a push without a position).
struct Push {
  Stream stream;
  std::int64_t title_id = 0;
  std::int64_t offset = -1;
  std::shared_ptr<const std::string> message;
};

class LiveSink {
public:
  virtual ~LiveSink() = default;
  /// Called from any thread; must not block.
  virtual void push(Push push) = 0;
};

/// What a subscription (or a connection's user stream) starts with.
struct Joined {
  bool ok = false;
  std::optional<StreamPosition> position;  // where the stream stands: a client can come back from here
  std::optional<RecoveryPlan> recovery;    // when it came with `since`
};

class LiveHub {
public:
  using Id = std::uint64_t;
  explicit LiveHub(HistoryLimits limits = {}) : titles_(limits), notifications_(limits) {}
  /// since: the user's notifications to recover (the stream is the connection's from the start).
  Id add(std::weak_ptr<LiveSink> sink, std::optional<std::string> user, std::optional<StreamPosition> since = {}, Joined* joined = nullptr);
  void remove(Id id);
  /// ok false if the connection already has too many subscriptions (max_per_connection).
  Joined subscribe(Id id, std::int64_t title_id, std::size_t max_per_connection, std::optional<StreamPosition> since = {});
  void unsubscribe(Id id, std::int64_t title_id);
  /// Returns how many connections it went to. offset -1: not a record of a live stream (title_update).
  std::size_t publish_title(std::int64_t title_id, const std::shared_ptr<const std::string>& message, std::int32_t partition = -1,
                            std::int64_t offset = -1);
  std::size_t publish_user(const std::string& user, const std::shared_ptr<const std::string>& message, std::int32_t partition = -1,
                           std::int64_t offset = -1);
  /// A live topic's feed: its log is known (before any record), its first catch-up done.
  void follow(Stream stream, std::uint32_t epoch, std::int32_t partitions);
  void caught_up(Stream stream, const std::map<std::int32_t, std::int64_t>& next);
  std::size_t connections() const;
  /// Counts pushes there from now on (set once the metrics exist; the feeds may already run).
  void set_metrics(EdgeMetrics* metrics) { metrics_ = metrics; }
  EdgeMetrics* metrics() const { return metrics_.load(); }
  /// Where a plan of kind kafka is read (nullptr: such a plan is answered with a gap).
  void set_recovery(KafkaRecovery* recovery) { recovery_ = recovery; }
  KafkaRecovery* recovery() const { return recovery_.load(); }

private:
  struct Connection {
    std::weak_ptr<LiveSink> sink;
    std::optional<std::string> user;
    std::set<std::int64_t> titles;
  };
  /// Records the push in history and delivers it to the connections listed under key in index.
  template <class Index, class Key>
  std::size_t deliver_to(const Index& index, const Key& key, const Push& push, StreamHistory& history, std::int32_t partition,
                         const std::string& history_key);
  static void warn_partitioner(std::int32_t partition, const std::string& key);
  StreamHistory& history(Stream s) { return s == Stream::titles ? titles_ : notifications_; }
  Joined join(StreamHistory& history, const std::string& key, std::optional<StreamPosition> since);

  mutable std::mutex mutex_;
  Id next_ = 1;
  std::map<Id, Connection> connections_;
  std::map<std::int64_t, std::set<Id>> by_title_;
  std::map<std::string, std::set<Id>, std::less<>> by_user_;
  StreamHistory titles_, notifications_;
  std::atomic<EdgeMetrics*> metrics_{nullptr};
  std::atomic<KafkaRecovery*> recovery_{nullptr};
};

}  // namespace anipipe::edge
