#include "live_hub.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "util/clock.hpp"

namespace anipipe::edge {

Joined LiveHub::join(StreamHistory& history, const std::string& key, std::optional<StreamPosition> since) {
  Joined out;
  out.ok = true;
  out.position = history.seam(key);
  if (since) out.recovery = history.plan(key, *since, util::now_unix_ms());
  return out;
}

LiveHub::Id LiveHub::add(std::weak_ptr<LiveSink> sink, std::optional<std::string> user, std::optional<StreamPosition> since,
                         Joined* joined) {
  std::lock_guard lock(mutex_);
  const Id id = next_++;
  if (user) {
    by_user_[*user].insert(id);
    if (joined) *joined = join(notifications_, *user, since);
  }
  connections_[id] = {std::move(sink), std::move(user), {}};
  return id;
}

void LiveHub::remove(Id id) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  for (auto t : it->second.titles) {
    auto& s = by_title_[t];
    s.erase(id);
    if (s.empty()) by_title_.erase(t);
  }
  if (it->second.user) {
    auto u = by_user_.find(*it->second.user);
    if (u != by_user_.end()) {
      u->second.erase(id);
      if (u->second.empty()) by_user_.erase(u);
    }
  }
  connections_.erase(it);
}

Joined LiveHub::subscribe(Id id, std::int64_t title_id, std::size_t max_per_connection, std::optional<StreamPosition> since) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(id);
  if (it == connections_.end()) return {};
  if (!it->second.titles.count(title_id) && it->second.titles.size() >= max_per_connection) return {};
  it->second.titles.insert(title_id);
  by_title_[title_id].insert(id);
  return join(titles_, std::to_string(title_id), since);
}

void LiveHub::unsubscribe(Id id, std::int64_t title_id) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(id);
  if (it != connections_.end()) it->second.titles.erase(title_id);
  auto t = by_title_.find(title_id);
  if (t == by_title_.end()) return;
  t->second.erase(id);
  if (t->second.empty()) by_title_.erase(t);
}

void LiveHub::warn_partitioner(std::int32_t partition, const std::string& key) {
  // Once: a position given before a stream's first push would name the wrong partition.
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    spdlog::warn("a live record keyed {} is in partition {}, not where --ws-partitioner puts it: set --ws-partitioner to the "
                 "producers' partitioner, or a client back with the position of a subscription that had no push yet may miss records",
                 key, partition);
}

template <class Index, class Key>
std::size_t LiveHub::deliver_to(const Index& index, const Key& key, const Push& push, StreamHistory& history, std::int32_t partition,
                                const std::string& history_key) {
  std::vector<std::shared_ptr<LiveSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    if (push.offset >= 0 && !history.append(partition, push.offset, history_key, push.message, util::now_unix_ms()))
      warn_partitioner(partition, history_key);
    auto it = index.find(key);
    if (it != index.end())
      for (auto id : it->second)
        if (auto c = connections_.find(id); c != connections_.end())
          if (auto s = c->second.sink.lock()) sinks.push_back(std::move(s));
  }
  for (auto& s : sinks) s->push(push);  // outside the lock: a sink may call back into the hub
  if (auto* m = metrics_.load(); m && !sinks.empty()) m->pushed(static_cast<double>(sinks.size()));
  return sinks.size();
}

std::size_t LiveHub::publish_title(std::int64_t title_id, const std::shared_ptr<const std::string>& message, std::int32_t partition,
                                   std::int64_t offset) {
  return deliver_to(by_title_, title_id, Push{Stream::titles, title_id, offset, message}, titles_, partition, std::to_string(title_id));
}

std::size_t LiveHub::publish_user(const std::string& user, const std::shared_ptr<const std::string>& message, std::int32_t partition,
                                  std::int64_t offset) {
  return deliver_to(by_user_, user, Push{Stream::notifications, 0, offset, message}, notifications_, partition, user);
}

void LiveHub::follow(Stream stream, std::uint32_t epoch, std::int32_t partitions) {
  std::lock_guard lock(mutex_);
  history(stream).follow(epoch, partitions);
}

void LiveHub::caught_up(Stream stream, const std::map<std::int32_t, std::int64_t>& next) {
  std::lock_guard lock(mutex_);
  history(stream).caught_up(next);
}

std::size_t LiveHub::connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace anipipe::edge
