#pragma once
// Who is listening on the WebSocket: per title (subscribe_title) and per user (an authenticated
// connection gets its own anilibria.notifications). The feeds publish; each connection's sink
// queues the message on its own strand, bounded (a slow client is dropped, not buffered).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "edge_metrics.hpp"

namespace anipipe::edge {

class LiveSink {
public:
  virtual ~LiveSink() = default;
  /// Called from any thread; must not block.
  virtual void push(std::shared_ptr<const std::string> message) = 0;
};

class LiveHub {
public:
  using Id = std::uint64_t;
  Id add(std::weak_ptr<LiveSink> sink, std::optional<std::string> user);
  void remove(Id id);
  /// false if the connection already has too many subscriptions (max_per_connection).
  bool subscribe(Id id, std::int64_t title_id, std::size_t max_per_connection);
  void unsubscribe(Id id, std::int64_t title_id);
  /// Returns how many connections it went to.
  std::size_t publish_title(std::int64_t title_id, const std::shared_ptr<const std::string>& message);
  std::size_t publish_user(const std::string& user, const std::shared_ptr<const std::string>& message);
  std::size_t connections() const;
  /// Counts pushes there from now on (set once the metrics exist; the feeds may already run).
  void set_metrics(EdgeMetrics* metrics) { metrics_ = metrics; }

private:
  struct Connection {
    std::weak_ptr<LiveSink> sink;
    std::optional<std::string> user;
    std::set<std::int64_t> titles;
  };
  /// Delivers to the connections listed under key in index (by title or by user).
  template <class Index, class Key>
  std::size_t deliver_to(const Index& index, const Key& key, const std::shared_ptr<const std::string>& message);

  mutable std::mutex mutex_;
  Id next_ = 1;
  std::map<Id, Connection> connections_;
  std::map<std::int64_t, std::set<Id>> by_title_;
  std::map<std::string, std::set<Id>, std::less<>> by_user_;
  std::atomic<EdgeMetrics*> metrics_{nullptr};
};

}  // namespace anipipe::edge
