#include "live_hub.hpp"

#include <vector>

namespace anipipe::edge {

LiveHub::Id LiveHub::add(std::weak_ptr<LiveSink> sink, std::optional<std::string> user) {
  std::lock_guard lock(mutex_);
  const Id id = next_++;
  if (user) by_user_[*user].insert(id);
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

bool LiveHub::subscribe(Id id, std::int64_t title_id, std::size_t max_per_connection) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(id);
  if (it == connections_.end()) return false;
  if (!it->second.titles.count(title_id) && it->second.titles.size() >= max_per_connection) return false;
  it->second.titles.insert(title_id);
  by_title_[title_id].insert(id);
  return true;
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

template <class Index, class Key>
std::size_t LiveHub::deliver_to(const Index& index, const Key& key, const std::shared_ptr<const std::string>& message) {
  std::vector<std::shared_ptr<LiveSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    auto it = index.find(key);
    if (it == index.end()) return 0;
    for (auto id : it->second)
      if (auto c = connections_.find(id); c != connections_.end())
        if (auto s = c->second.sink.lock()) sinks.push_back(std::move(s));
  }
  for (auto& s : sinks) s->push(message);  // outside the lock: a sink may call back into the hub
  if (auto* m = metrics_.load(); m && !sinks.empty()) m->pushed(static_cast<double>(sinks.size()));
  return sinks.size();
}

std::size_t LiveHub::publish_title(std::int64_t title_id, const std::shared_ptr<const std::string>& message) {
  return deliver_to(by_title_, title_id, message);
}

std::size_t LiveHub::publish_user(const std::string& user, const std::shared_ptr<const std::string>& message) {
  return deliver_to(by_user_, user, message);
}

std::size_t LiveHub::connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace anipipe::edge
