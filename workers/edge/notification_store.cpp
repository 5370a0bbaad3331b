#include "notification_store.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "redis/notification_keys.hpp"

namespace anipipe::edge {

namespace keys = redis::notifications;

std::optional<HistoryCursor> HistoryCursor::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  HistoryCursor c;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + dash, c.created_ms);
  if (ec != std::errc() || end != text.data() + dash || c.created_ms < 0) return std::nullopt;
  c.id = std::string(text.substr(dash + 1));
  if (c.id.size() != 32 ||
      !std::all_of(c.id.begin(), c.id.end(), [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); }))
    return std::nullopt;
  return c;
}

std::string HistoryCursor::to_string() const { return std::to_string(created_ms) + "-" + id; }

HistoryPageIds page_of(const std::vector<HistoryEntry>& newest_first, const std::unordered_set<std::string>& read, const HistoryQuery& q) {
  HistoryPageIds page;
  for (const auto& e : newest_first) page.unread += read.count(e.id) ? 0 : 1;
  const auto after_cursor = [&](const HistoryEntry& e) {
    return !q.after || e.created_ms < q.after->created_ms || (e.created_ms == q.after->created_ms && e.id < q.after->id);
  };
  for (const auto& e : newest_first) {
    if (!after_cursor(e) || (q.unread_only && read.count(e.id))) continue;
    if (page.ids.size() == q.limit) return page;  // one more exists: the next page starts after the last one taken
    page.ids.push_back(e.id);
    page.next = HistoryCursor{e.created_ms, e.id};
  }
  page.next.reset();
  return page;
}

HistoryPage NotificationStore::list(std::string_view user, const HistoryQuery& query) {
  std::lock_guard lock(mutex_);
  const auto replies = redis_.pipeline(
      std::vector<redis::Command>{{"ZREVRANGE", keys::history(user), "0", "-1", "WITHSCORES"}, {"SMEMBERS", keys::read(user)}});
  for (const auto& r : replies)
    if (r.is_error()) throw std::runtime_error("redis refused to read the notification history: " + r.str);
  std::vector<HistoryEntry> entries;
  const auto& ranked = replies[0].elements;
  for (std::size_t i = 0; i + 1 < ranked.size(); i += 2) {
    std::int64_t ms = 0;
    std::from_chars(ranked[i + 1].str.data(), ranked[i + 1].str.data() + ranked[i + 1].str.size(), ms);
    entries.push_back({ranked[i].str, ms});
  }
  std::unordered_set<std::string> read;
  for (const auto& r : replies[1].elements) read.insert(r.str);
  const auto ids = page_of(entries, read, query);
  HistoryPage page{{}, ids.next, ids.unread};
  if (ids.ids.empty()) return page;
  redis::Command hmget{"HMGET", keys::items(user)};
  hmget.insert(hmget.end(), ids.ids.begin(), ids.ids.end());
  const auto values = redis_.command(hmget);
  if (values.is_error()) throw std::runtime_error("redis refused to read the notification history: " + values.str);
  for (std::size_t i = 0; i < values.elements.size() && i < ids.ids.size(); ++i) {
    const auto& json = values.elements[i].str;
    if (values.elements[i].type != redis::Reply::Type::string || json.size() < 2 || json.back() != '}') continue;  // trimmed meanwhile
    // The stored notification is an object written by notify: "read" goes in before its last brace.
    page.items.push_back(json.substr(0, json.size() - 1) + R"(,"read":)" + (read.count(ids.ids[i]) ? "true" : "false") + "}");
  }
  return page;
}

bool NotificationStore::mark_read(std::string_view user, std::string_view id) {
  std::lock_guard lock(mutex_);
  const auto r = redis_.command({"EVAL", std::string(keys::kMarkReadScript), "2", keys::items(user), keys::read(user), std::string(id)});
  if (r.is_error()) throw std::runtime_error("redis refused to mark a notification read: " + r.str);
  return r.integer == 1;
}

}  // namespace anipipe::edge
