#include "subscription_table.hpp"

#include "catalog/title_document.hpp"

namespace anipipe::notify {

namespace {

struct Key {
  std::int64_t title_id = 0;
  std::string_view subscriber;
};

std::optional<Key> parse_key(std::string_view key) {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Key k;
  const auto id = catalog::parse_title_id(key.substr(0, colon));
  if (!id) return std::nullopt;
  k.title_id = *id;
  k.subscriber = key.substr(colon + 1);
  if (k.subscriber.empty() || k.subscriber.size() > 128 || k.subscriber.find(':') != std::string_view::npos) return std::nullopt;
  return k;
}

std::optional<std::uint8_t> channel_bit(std::string_view name) {
  if (name == "topic") return Channel::topic;
  if (name == "webhook") return Channel::webhook;
  if (name == "websocket") return Channel::websocket;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> SubscriptionTable::apply(std::optional<std::string_view> key, std::optional<std::string_view> value) {
  if (!key) return "a subscription without a key";
  const auto k = parse_key(*key);
  if (!k) return "key '" + std::string(*key) + "' is not title_id:subscriber_id";

  if (!value) {  // unsubscribed
    auto t = by_title_.find(k->title_id);
    if (t == by_title_.end()) return std::nullopt;
    auto s = t->second.find(std::string(k->subscriber));
    if (s == t->second.end()) return std::nullopt;
    t->second.erase(s);
    --subscriptions_;
    if (t->second.empty()) by_title_.erase(t);
    return std::nullopt;
  }

  simdjson::dom::element doc;
  if (parser_.parse(value->data(), value->size()).get(doc) || !doc.is_object())
    return "subscription " + std::string(*key) + " is not a JSON object";
  std::int64_t title_id = 0;
  std::string_view subscriber;
  if (doc["title_id"].get(title_id) || title_id != k->title_id)
    return "subscription " + std::string(*key) + ": title_id does not match the key";
  if (doc["subscriber_id"].get(subscriber) || subscriber != k->subscriber)
    return "subscription " + std::string(*key) + ": subscriber_id does not match the key";
  std::uint8_t channels = kAllChannels;  // no preference: every channel
  simdjson::dom::array list;
  if (auto c = doc["channels"]; c.error() == simdjson::SUCCESS) {
    if (c.get(list)) return "subscription " + std::string(*key) + ": channels is not an array";
    channels = 0;
    for (auto item : list) {
      std::string_view name;
      std::optional<std::uint8_t> bit;
      if (item.get(name) || !(bit = channel_bit(name)))
        return "subscription " + std::string(*key) + ": unknown channel (topic, webhook, websocket)";
      channels |= *bit;
    }
  }
  auto [it, inserted] = by_title_[k->title_id].insert_or_assign(std::string(k->subscriber), channels);
  (void)it;
  subscriptions_ += inserted;
  return std::nullopt;
}

const SubscriptionTable::Audience* SubscriptionTable::audience(std::int64_t title_id) const {
  auto it = by_title_.find(title_id);
  return it == by_title_.end() ? nullptr : &it->second;
}

}  // namespace anipipe::notify
