#include "stale_sweep.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cache_keys.hpp"
#include "catalog/title_document.hpp"
#include "title_meta.hpp"

namespace anipipe::cache {

namespace {

using Type = redis::Reply::Type;
constexpr std::string_view kV2Title = keys::kV2TitlePrefix;
constexpr std::string_view kV1Title = keys::kV1TitlePrefix;
constexpr std::string_view kAlias = keys::kAliasPrefix;
constexpr std::string_view kGenre = keys::kGenrePrefix;
constexpr std::string_view kStatus = keys::kStatusPrefix;
constexpr std::string_view kMeta = keys::kMetaPrefix;

/// One page of SCAN, SSCAN or ZSCAN (ZSCAN's scores are dropped). nullopt: the key is not of
/// that type (WRONGTYPE).
struct Page {
  std::string cursor;
  std::vector<std::string> items;
};
std::optional<Page> scan_page(redis::Client& redis, const redis::Command& command, bool with_scores = false) {
  auto r = redis.command(command);
  if (r.is_error() && r.str.starts_with("WRONGTYPE")) return std::nullopt;
  if (r.type != Type::array || r.elements.size() != 2)
    throw redis::Unavailable(command[0] + " answered " + (r.is_error() ? r.str : std::string("something unexpected")));
  Page page{r.elements[0].str, {}};
  const auto& items = r.elements[1].elements;
  for (std::size_t i = 0; i < items.size(); i += with_scores ? 2 : 1) page.items.push_back(items[i].str);
  return page;
}

std::optional<std::int64_t> id_after(std::string_view key, std::string_view prefix) {
  return catalog::parse_title_id(key.substr(prefix.size()));
}

std::vector<std::optional<TitleMeta>> read_metas(redis::Client& redis, const std::vector<std::int64_t>& ids, bool watch) {
  redis::Command w{"WATCH"}, mget{"MGET"};
  for (auto id : ids) {
    w.push_back(keys::meta(id));
    mget.push_back(keys::meta(id));
  }
  std::vector<redis::Command> commands;
  if (watch) commands.push_back(std::move(w));
  commands.push_back(std::move(mget));
  const auto replies = redis.pipeline(commands);
  const auto& values = replies.back();
  if (replies.front().is_error() || values.type != Type::array || values.elements.size() != ids.size())
    throw redis::Unavailable("reading the title bookkeeping failed: " + (replies.front().is_error() ? replies.front().str : values.str));
  std::vector<std::optional<TitleMeta>> out;
  for (const auto& v : values.elements) out.push_back(TitleMeta::parse(v));
  return out;
}

bool alive(const std::optional<TitleMeta>& m) { return m && !m->tombstone; }

/// An optimistic transaction: `decide` WATCHes and reads what the decision rests on and returns
/// the commands it calls for; they run in MULTI/EXEC, decided again if a watched key changed.
void transact(redis::Client& redis, const std::function<std::vector<redis::Command>()>& decide) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto commands = decide();
    if (commands.empty()) {
      redis.command({"UNWATCH"});
      return;
    }
    std::vector<redis::Command> tx{{"MULTI"}};
    for (auto& c : commands) tx.push_back(std::move(c));
    tx.push_back({"EXEC"});
    const auto replies = redis.pipeline(tx);
    for (std::size_t i = 0; i + 1 < replies.size(); ++i)
      if (replies[i].is_error()) {
        redis.command({"DISCARD"});
        throw redis::Unavailable(tx[i][0] + " refused: " + replies[i].str);
      }
    if (replies.back().is_error()) throw redis::Unavailable("EXEC refused: " + replies.back().str);
    if (replies.back().type == Type::array) return;
  }
  throw redis::Unavailable("the sweep kept racing the cache workers; run the rebuild again");
}

/// Title documents (v2 and v1) whose title has no live bookkeeping.
std::size_t sweep_documents(redis::Client& redis, const std::vector<std::pair<std::string, std::int64_t>>& found) {
  std::vector<std::int64_t> ids;
  ids.reserve(found.size());
  for (const auto& [key, id] : found) ids.push_back(id);
  const auto metas = read_metas(redis, ids, false);
  std::vector<std::pair<std::string, std::int64_t>> suspects;
  for (std::size_t i = 0; i < found.size(); ++i)
    if (!alive(metas[i])) suspects.push_back(found[i]);
  if (suspects.empty()) return 0;
  std::size_t deleted = 0;
  transact(redis, [&] {
    std::vector<std::int64_t> suspect_ids;
    suspect_ids.reserve(suspects.size());
    for (const auto& [key, id] : suspects) suspect_ids.push_back(id);
    const auto now = read_metas(redis, suspect_ids, true);
    redis::Command del{"DEL"};
    for (std::size_t i = 0; i < suspects.size(); ++i)
      if (!alive(now[i])) del.push_back(suspects[i].first);
    deleted = del.size() - 1;
    return del.size() > 1 ? std::vector<redis::Command>{del} : std::vector<redis::Command>{};
  });
  return deleted;
}

/// Aliases that do not point at a live title that names them.
std::size_t sweep_aliases(redis::Client& redis, const std::vector<std::string>& found) {
  // Decided on the aliases' values and their titles' bookkeeping, both watched when it counts.
  auto stale_of = [&](const std::vector<std::string>& aliases, bool watch) {
    redis::Command mget{"MGET"};
    mget.insert(mget.end(), aliases.begin(), aliases.end());
    std::vector<redis::Command> read;
    if (watch) {
      redis::Command w{"WATCH"};
      w.insert(w.end(), aliases.begin(), aliases.end());
      read.push_back(std::move(w));
    }
    read.push_back(std::move(mget));
    const auto replies = redis.pipeline(read);
    const auto& values = replies.back();
    if (values.type != Type::array || values.elements.size() != aliases.size())
      throw redis::Unavailable("reading aliases failed: " + values.str);
    std::vector<std::int64_t> ids;
    std::vector<std::size_t> with_id;
    std::vector<std::string> stale;
    for (std::size_t i = 0; i < aliases.size(); ++i) {
      const auto id = values.elements[i].type == Type::string ? catalog::parse_title_id(values.elements[i].str) : std::nullopt;
      if (id) {
        ids.push_back(*id);
        with_id.push_back(i);
      } else if (values.elements[i].type != Type::nil) {
        stale.push_back(aliases[i]);
      }
    }
    if (!ids.empty()) {
      const auto metas = read_metas(redis, ids, watch);
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const auto& alias = aliases[with_id[k]];
        if (!alive(metas[k]) || metas[k]->alias != std::string_view(alias).substr(kAlias.size())) stale.push_back(alias);
      }
    }
    return stale;
  };
  const auto suspects = stale_of(found, false);
  if (suspects.empty()) return 0;
  std::size_t deleted = 0;
  transact(redis, [&] {
    const auto stale = stale_of(suspects, true);
    redis::Command del{"DEL"};
    del.insert(del.end(), stale.begin(), stale.end());
    deleted = stale.size();
    return stale.empty() ? std::vector<redis::Command>{} : std::vector<redis::Command>{del};
  });
  return deleted;
}

/// Members of one index (the updated ZSET, a genre or status SET) that their title's bookkeeping
/// does not name. Returns nullopt if the key is not of the index's type (it is then foreign).
std::optional<std::size_t> sweep_index(redis::Client& redis, const std::string& key) {
  enum class Kind {
    updated,
    genre,
    status
  } kind = key == keys::kUpdated     ? Kind::updated
           : key.starts_with(kGenre) ? Kind::genre
                                     : Kind::status;
  const std::string name = kind == Kind::genre ? key.substr(kGenre.size()) : kind == Kind::status ? key.substr(kStatus.size()) : "";
  auto belongs = [&](const std::optional<TitleMeta>& m) {
    if (!alive(m)) return false;
    if (kind == Kind::genre) return std::find(m->genres.begin(), m->genres.end(), name) != m->genres.end();
    if (kind == Kind::status) return m->status == name;
    return true;
  };
  auto stale_of = [&](const std::vector<std::string>& members, bool watch) {
    std::vector<std::string> stale;
    std::vector<std::int64_t> ids;
    std::vector<std::size_t> with_id;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (auto id = catalog::parse_title_id(members[i])) {
        ids.push_back(*id);
        with_id.push_back(i);
      } else {
        stale.push_back(members[i]);
      }
    }
    if (!ids.empty()) {
      const auto metas = read_metas(redis, ids, watch);
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (!belongs(metas[k])) stale.push_back(members[with_id[k]]);
    }
    return stale;
  };
  std::size_t removed = 0;
  std::string cursor = "0";
  do {
    const auto page = kind == Kind::updated ? scan_page(redis, {"ZSCAN", key, cursor, "COUNT", "1000"}, true)
                                            : scan_page(redis, {"SSCAN", key, cursor, "COUNT", "1000"});
    if (!page) return std::nullopt;
    cursor = page->cursor;
    const auto suspects = stale_of(page->items, false);
    if (suspects.empty()) continue;
    transact(redis, [&] {
      const auto stale = stale_of(suspects, true);
      redis::Command rem{kind == Kind::updated ? "ZREM" : "SREM", key};
      rem.insert(rem.end(), stale.begin(), stale.end());
      removed += stale.size();
      return stale.empty() ? std::vector<redis::Command>{} : std::vector<redis::Command>{rem};
    });
  } while (cursor != "0");
  return removed;
}

}  // namespace

SweepResult sweep_stale(redis::Client& redis, CacheWriter& writer, const std::unordered_set<std::int64_t>& live,
                        const std::map<std::int32_t, std::int64_t>& read_to) {
  SweepResult result;
  // 1. Titles the catalog no longer has: retired through the writer, as a tombstone would be.
  auto replayed = [&](const TitleMeta& m) {
    char* end = nullptr;
    const long p = std::strtol(m.partition.c_str(), &end, 10);
    if (end == m.partition.c_str() || *end) return true;
    const auto at = read_to.find(static_cast<std::int32_t>(p));
    return at == read_to.end() || m.offset < at->second;
  };
  std::string cursor = "0";
  do {
    const auto page = scan_page(redis, {"SCAN", cursor, "MATCH", std::string(kMeta) + "*", "COUNT", "1000"});
    cursor = page->cursor;
    std::vector<std::int64_t> ids;
    for (const auto& key : page->items)
      if (auto id = id_after(key, kMeta)) ids.push_back(*id);
    if (ids.empty()) continue;
    const auto metas = read_metas(redis, ids, false);
    CacheWriter::Pending retire;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto& m = metas[i];
      if (!alive(m) || live.count(ids[i]) || !replayed(*m)) continue;
      CacheWriter::TitleWrite w;
      w.id = ids[i];
      w.partition = static_cast<std::int32_t>(std::strtol(m->partition.c_str(), nullptr, 10));
      w.offset = m->offset;
      w.tombstone = true;
      retire.titles.push_back(std::move(w));
    }
    result.titles_retired += retire.titles.size();
    if (!retire.titles.empty()) writer.flush(retire);
  } while (cursor != "0");

  // 2. Every other key under the namespace, against the bookkeeping.
  std::vector<std::string> indexes;
  cursor = "0";
  do {
    const auto page = scan_page(redis, {"SCAN", cursor, "MATCH", std::string(keys::kNamespace) + "*", "COUNT", "1000"});
    cursor = page->cursor;
    std::vector<std::pair<std::string, std::int64_t>> documents;
    std::vector<std::string> aliases;
    redis::Command foreign{"UNLINK"};
    for (const auto& key : page->items) {
      const std::string_view k(key);
      if (k.starts_with(keys::kBookkeeping)) continue;
      if (k.starts_with(kV2Title) || k.starts_with(kV1Title)) {
        if (auto id = id_after(k, k.starts_with(kV2Title) ? kV2Title : kV1Title)) documents.emplace_back(key, *id);
        else foreign.push_back(key);
      } else if (k.starts_with(kAlias)) {
        aliases.push_back(key);
      } else if (k == keys::kUpdated || k.starts_with(kGenre) || k.starts_with(kStatus)) {
        indexes.push_back(key);
      } else {
        foreign.push_back(key);
      }
    }
    if (!documents.empty()) result.keys_deleted += sweep_documents(redis, documents);
    if (!aliases.empty()) result.keys_deleted += sweep_aliases(redis, aliases);
    if (foreign.size() > 1) result.keys_deleted += static_cast<std::size_t>(redis.command(foreign).integer);
  } while (cursor != "0");
  // SCAN may return a key twice; an index is swept once.
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  for (const auto& key : indexes) {
    if (auto removed = sweep_index(redis, key)) result.entries_removed += *removed;
    else result.keys_deleted += static_cast<std::size_t>(redis.command({"UNLINK", key}).integer);
  }
  return result;
}

}  // namespace anipipe::cache
