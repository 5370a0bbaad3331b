#include "sync_replies.hpp"

#include <simdjson.h>

namespace anipipe::edge {

std::optional<std::string> rejection_of(std::string_view reply) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view status, reason;
  if (parser.parse(reply).get(doc) || doc["status"].get(status) || status != "rejected") return std::nullopt;
  if (doc["reason"].get(reason)) reason = "no reason given";
  return std::string(reason);
}

SyncReplies::SyncReplies(const kafka::Settings& settings, const std::string& results_topic) {
  feed_ = std::make_unique<FeedThread>(settings, results_topic, kafka::TopicFollower::From::end, [this](const kafka::Message& m) {
    const auto key = m.key();
    const auto value = m.value();
    if (!key || !value) return;
    std::lock_guard lock(mutex_);
    auto it = waiting_.find(*key);
    if (it == waiting_.end()) return;
    it->second->reply = std::string(*value);
    arrived_.notify_all();
  });
}

std::shared_ptr<SyncReplies::Waiter> SyncReplies::expect(const std::string& correlation_id) {
  auto w = std::make_shared<Waiter>();
  w->id = correlation_id;
  std::lock_guard lock(mutex_);
  waiting_[correlation_id] = w;
  return w;
}

std::optional<std::string> SyncReplies::wait(const std::shared_ptr<Waiter>& waiter, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return waiter->reply.has_value(); });
  waiting_.erase(waiter->id);
  return waiter->reply;
}

}  // namespace anipipe::edge
