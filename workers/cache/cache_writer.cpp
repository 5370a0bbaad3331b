#include "cache_writer.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>

#include "cache_keys.hpp"
#include "catalog/title_document.hpp"
#include "catalog/title_v1.hpp"
#include "json/json_writer.hpp"
#include "title_meta.hpp"
#include "title_view.hpp"
#include "util/clock.hpp"

namespace anipipe::cache {

namespace {

double updated_score(const TitleView& t) {
  const auto& at = t.updated_at ? t.updated_at : t.fresh_at;
  if (!at) return 0;
  const auto tp = util::parse_rfc3339(*at);
  return tp ? static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(tp->time_since_epoch()).count()) : 0;
}

std::string publish_json(std::string_view scope, std::string_view field, std::string_view value, std::optional<std::int64_t> id,
                         std::optional<std::size_t> deleted) {
  std::string out;
  json::Writer w(out);
  w.begin_object().field("scope", scope);
  if (id) w.field("title_id", *id);
  else w.field(field, value);
  if (deleted) w.field("deleted", static_cast<std::int64_t>(*deleted));
  w.field("at", util::now_rfc3339()).end_object();
  return out;
}

/// What Redis holds for a batch's titles now, read under WATCH.
struct StoredTitles {
  std::vector<std::optional<TitleMeta>> metas;  // by position in the batch
  std::set<std::string> owned_aliases;          // alias keys that point at their title now
};

/// WATCHes the bookkeeping keys (a concurrent writer's EXEC touching one makes ours fail) and reads
/// them, with the aliases they name (an alias is dropped only while it still points here).
StoredTitles read_stored_titles(redis::Client& redis, const std::vector<const CacheWriter::TitleWrite*>& titles) {
  redis::Command watch{"WATCH"}, mget{"MGET"};
  for (const auto* t : titles) {
    watch.push_back(keys::meta(t->id));
    mget.push_back(keys::meta(t->id));
  }
  auto read = redis.pipeline({watch, mget});
  if (read[0].is_error() || read[1].type != redis::Reply::Type::array || read[1].elements.size() != titles.size())
    throw redis::Unavailable("reading the title bookkeeping failed: " + (read[0].is_error() ? read[0].str : read[1].str));
  StoredTitles stored;
  auto& metas = stored.metas;
  redis::Command alias_get{"MGET"};
  for (auto& r : read[1].elements) {
    metas.push_back(TitleMeta::parse(r));
    if (metas.back() && !metas.back()->alias.empty()) alias_get.push_back(keys::alias(metas.back()->alias));
  }
  if (alias_get.size() > 1) {
    const auto r = redis.command(alias_get);
    std::size_t k = 0;
    for (std::size_t i = 0; i < titles.size(); ++i) {
      if (!metas[i] || metas[i]->alias.empty()) continue;
      const auto& v = r.elements.at(k++);
      if (v.type == redis::Reply::Type::string && v.str == std::to_string(titles[i]->id)) stored.owned_aliases.insert(metas[i]->alias);
    }
  }
  return stored;
}

/// A batch's writes, decided title by title, then sent in one transaction: removals first, then the
/// new state. The commands refer to the values where they are (two documents of ~2 KB a title), and
/// to the keys built here, which `owned_` keeps while the transaction lives (so it neither copies nor moves).
class TitleTransaction {
public:
  TitleTransaction() = default;
  TitleTransaction(const TitleTransaction&) = delete;
  TitleTransaction& operator=(const TitleTransaction&) = delete;

  void add(const CacheWriter::TitleWrite& t, const std::optional<TitleMeta>& m, const std::set<std::string>& owned_aliases) {
    if (m && m->partition == std::to_string(t.partition) && m->offset > t.offset) return;  // newer already there
    const std::string_view id = own(std::to_string(t.id));
    if (m) {
      if (!m->alias.empty() && (t.tombstone || m->alias != t.alias) && owned_aliases.count(m->alias))
        del_.push_back(own(keys::alias(m->alias)));
      if (!m->status.empty() && (t.tombstone || m->status != t.status)) srem_[keys::status(m->status)].push_back(id);
      for (const auto& g : m->genres)
        if (t.tombstone || std::find(t.genres.begin(), t.genres.end(), g) == t.genres.end()) srem_[keys::genre(g)].push_back(id);
    }
    if (t.tombstone) {
      del_.push_back(own(keys::v2_title(t.id)));
      del_.push_back(own(keys::v1_title(t.id)));
      zrem_.push_back(id);
      // Remembered a week, so an older write arriving late cannot resurrect the title.
      tomb_metas_.push_back({"SET", own(keys::meta(t.id)), own(TitleMeta::dead(t.partition, t.offset)), "EX", "604800"});
      return;
    }
    for (const auto& g : t.genres) sadd_[keys::genre(g)].push_back(id);
    sadd_[keys::status(t.status)].push_back(id);
    mset_.insert(mset_.end(), {own(keys::v2_title(t.id)), t.v2, own(keys::v1_title(t.id)), t.v1, own(keys::alias(t.alias)), id,
                               own(keys::meta(t.id)), own(TitleMeta::live(t.partition, t.offset, t.alias, t.status, t.genres))});
    zadd_.push_back(t.score);
    zadd_.push_back(id);
  }

  /// MULTI ... EXEC; once only: the commands are moved out.
  std::vector<redis::CommandView> commands() {
    std::vector<redis::CommandView> tx{{"MULTI"}};
    if (del_.size() > 1) tx.push_back(std::move(del_));
    if (zrem_.size() > 2) tx.push_back(std::move(zrem_));
    for (auto& [set, ids] : srem_) {
      redis::CommandView c{"SREM", set};
      c.insert(c.end(), ids.begin(), ids.end());
      tx.push_back(std::move(c));
    }
    for (auto& c : tomb_metas_) tx.push_back(std::move(c));
    if (mset_.size() > 1) {
      // MSET keeps no expiry (a title back after a tombstone keeps its bookkeeping for good).
      tx.push_back(std::move(mset_));
    }
    if (zadd_.size() > 2) tx.push_back(std::move(zadd_));
    for (auto& [set, ids] : sadd_) {
      redis::CommandView c{"SADD", set};
      c.insert(c.end(), ids.begin(), ids.end());
      tx.push_back(std::move(c));
    }
    tx.push_back({"EXEC"});
    return tx;
  }

private:
  std::string_view own(std::string s) { return owned_.emplace_back(std::move(s)); }

  std::deque<std::string> owned_;
  std::map<std::string, std::vector<std::string_view>> srem_, sadd_;
  redis::CommandView del_{"DEL"}, zrem_{"ZREM", keys::kUpdated}, mset_{"MSET"}, zadd_{"ZADD", keys::kUpdated};
  std::vector<redis::CommandView> tomb_metas_;
};

/// False if a watched key changed meanwhile (EXEC answers nil); throws if Redis refused a command.
bool exec_watched(redis::Client& redis, const std::vector<redis::CommandView>& tx) {
  const auto replies = redis.pipeline(tx);
  for (std::size_t i = 0; i + 1 < replies.size(); ++i)
    if (replies[i].is_error()) {
      redis.command({"DISCARD"});
      throw redis::Unavailable(std::string(tx[i][0]) + " refused: " + replies[i].str);
    }
  const auto& exec = replies.back();
  if (exec.is_error()) throw redis::Unavailable("EXEC refused: " + exec.str);
  return exec.type == redis::Reply::Type::array;
}

}  // namespace

CacheWriter::CacheWriter(redis::Client& redis, CacheTopics topics) : redis_(redis), topics_(std::move(topics)) {}

std::size_t CacheWriter::delete_matching(redis::Client& redis, const std::string& pattern, std::string_view keep_prefix) {
  std::size_t deleted = 0;
  std::string cursor = "0";
  do {
    auto r = redis.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (r.type != redis::Reply::Type::array || r.elements.size() != 2)
      throw redis::Unavailable("SCAN answered " + (r.is_error() ? r.str : std::string("something unexpected")));
    cursor = r.elements[0].str;
    const auto& found = r.elements[1].elements;
    if (found.empty()) continue;
    redis::Command unlink{"UNLINK"};
    for (const auto& k : found)
      if (keep_prefix.empty() || !std::string_view(k.str).starts_with(keep_prefix)) unlink.push_back(k.str);
    if (unlink.size() > 1) deleted += static_cast<std::size_t>(redis.command(unlink).integer);
  } while (cursor != "0");
  return deleted;
}

std::optional<std::string> CacheWriter::add_title(std::string_view key, std::int32_t partition, std::int64_t offset,
                                                  std::optional<std::string_view> value, Pending& out) {
  const auto id = catalog::parse_title_id(key);
  if (!id) return "a titles record whose key is not a title id";
  TitleWrite w;
  w.id = *id;
  w.partition = partition;
  w.offset = offset;
  if (!value) {
    w.tombstone = true;
    out.titles.push_back(std::move(w));
    return std::nullopt;
  }
  // One parser and one view per thread, reused: every record of a replay or rebuild passes here.
  thread_local simdjson::dom::parser parser;
  thread_local TitleView doc;
  simdjson::dom::element root;
  if (auto err = parser.parse(value->data(), value->size()).get(root))
    return std::string("unreadable title document: title document is not JSON: ") + simdjson::error_message(err);
  try {
    doc.read(root);
  } catch (const std::exception& e) {
    return std::string("unreadable title document: ") + e.what();
  }
  if (doc.id != *id) return "key " + std::to_string(*id) + " carries title " + std::to_string(doc.id);
  char score[32];
  std::snprintf(score, sizeof score, "%.0f", updated_score(doc));
  w.v2 = std::string(*value);
  w.v1.reserve(value->size() + 256);
  json::Writer v1(w.v1);
  catalog::write_v1(v1, doc);
  w.alias = doc.alias;
  w.score = score;
  w.status = doc.status;
  w.genres.assign(doc.genres.begin(), doc.genres.end());
  out.titles.push_back(std::move(w));
  return std::nullopt;
}

bool CacheWriter::apply_titles(const std::vector<const TitleWrite*>& titles) {
  const auto stored = read_stored_titles(redis_, titles);
  TitleTransaction tx;
  for (std::size_t i = 0; i < titles.size(); ++i) tx.add(*titles[i], stored.metas[i], stored.owned_aliases);
  return exec_watched(redis_, tx.commands());
}

void CacheWriter::flush(Pending& pending) {
  if (!pending.titles.empty()) {
    // The last record of a title in the batch is the one that counts (same partition, higher offset).
    std::map<std::int64_t, const TitleWrite*> last;
    for (const auto& t : pending.titles) last[t.id] = &t;
    std::vector<const TitleWrite*> all;
    all.reserve(last.size());
    for (const auto& [id, t] : last) all.push_back(t);
    // Transactions of at most kWatchGroup titles: Redis 7.0's WATCH checks each key against every
    // key the connection already watches, so watching a whole batch of 1,000 cost 8 ms per batch
    // (half of Redis's time in a rebuild), 100 at a time a tenth of that.
    constexpr std::size_t kWatchGroup = 100;
    for (std::size_t from = 0; from < all.size(); from += kWatchGroup) {
      const std::vector<const TitleWrite*> titles(all.begin() + static_cast<std::ptrdiff_t>(from),
                                                  all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), from + kWatchGroup)));
      int attempt = 0;
      while (!apply_titles(titles))
        if (++attempt >= 20) throw redis::Unavailable("the title writes kept racing another writer; retrying the batch later");
    }
  }
  if (!pending.commands.empty()) {
    const auto replies = redis_.pipeline(pending.commands);
    for (std::size_t i = 0; i < replies.size(); ++i)
      if (replies[i].is_error())
        throw redis::Unavailable(pending.commands[i][0] + " " + pending.commands[i][1] + " refused: " + replies[i].str);
  }
  pending.titles.clear();
  pending.commands.clear();
}

void CacheWriter::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  for (const auto& tp : tps)
    if (tp.topic == topics_.titles) assigned_.insert(tp.partition);
}

void CacheWriter::on_revoked(const std::vector<kafka::TopicPartition>& tps) {
  for (const auto& tp : tps)
    if (tp.topic == topics_.titles) {
      assigned_.erase(tp.partition);
      replaying_.erase(tp.partition);
    }
}

void CacheWriter::check_markers(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result, Pending& pending) {
  if (assigned_.empty()) return;
  redis::Command mget{"MGET"};
  for (auto p : assigned_) mget.push_back(keys::built_marker(topics_.titles, p));
  const auto r = redis_.command(mget);
  if (r.type != redis::Reply::Type::array || r.elements.size() != assigned_.size())
    throw redis::Unavailable("MGET answered " + (r.is_error() ? r.str : std::string("something unexpected")));
  std::set<std::int32_t> in_batch;
  for (const auto* m : records)
    if (m->topic() == topics_.titles) in_batch.insert(m->partition());
  std::size_t i = 0;
  for (auto p : assigned_) {
    const bool built = r.elements[i++].type == redis::Reply::Type::string;
    if (built) continue;
    if (replaying_.count(p)) {
      // This batch is the replay's first: from here on the partition is being rebuilt in order.
      if (in_batch.count(p)) {
        pending.commands.push_back({"SET", keys::built_marker(topics_.titles, p), util::now_rfc3339()});
        replaying_.erase(p);
      }
      continue;
    }
    replaying_.insert(p);
    result.rewind_to_start.push_back({topics_.titles, p});
  }
}

void CacheWriter::add_invalidation(std::string_view json, Pending& pending, std::optional<std::string>& error) {
  auto& commands = pending.commands;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) {
    error = "invalidation is not JSON";
    return;
  }
  // Schema-checked already: scope and its field are there.
  const std::string_view scope = root["scope"].get_string().value_unsafe();
  const std::string channel(keys::kInvalidateChannel);
  // Applied once per correlation id: a caller that retried (the edge told it "pending"), or the
  // record consumed again after a crash, finds it done. Checked before, marked after the effect:
  // a crash in between applies it again, which is at-least-once, never lost.
  std::string_view correlation;
  std::string applied;
  if (!root["correlation_id"].get_string().get(correlation) && !correlation.empty()) {
    applied = keys::applied_invalidation(correlation);
    flush(pending);
    if (redis_.command({"EXISTS", applied}).integer == 1) {
      spdlog::info("invalidation {} was applied already; skipped", correlation);
      return;
    }
  }
  if (scope == "key") {
    const std::string key(root["key"].get_string().value_unsafe());
    if (std::string_view(key).starts_with(keys::kBookkeeping)) {
      error = "invalidating cache's own bookkeeping (" + std::string(keys::kBookkeeping) + "*) is refused";
      return;
    }
    commands.push_back({"DEL", key});
    commands.push_back({"PUBLISH", channel, publish_json(scope, "key", key, std::nullopt, std::nullopt)});
  } else if (scope == "title") {
    const std::int64_t id = root["title_id"].get_int64().value_unsafe();
    commands.push_back({"DEL", keys::v2_title(id), keys::v1_title(id)});
    commands.push_back({"PUBLISH", channel, publish_json(scope, "", "", id, std::nullopt)});
  } else {
    const std::string pattern(root["pattern"].get_string().value_unsafe());
    flush(pending);  // what came before the pattern is applied before it
    // Never the bookkeeping, even for "anilibria:*": a clear empties the cache, it does not make
    // every worker re-read the whole catalog.
    const auto n = delete_matching(redis_, pattern, keys::kBookkeeping);
    commands.push_back({"PUBLISH", channel, publish_json(scope, "pattern", pattern, std::nullopt, n)});
    spdlog::info("invalidated {} key(s) matching {}", n, pattern);
  }
  if (!applied.empty()) commands.push_back({"SET", applied, "1", "EX", "86400"});
}

runtime::BatchResult CacheWriter::handle_batch(const std::vector<const kafka::Message*>& records) {
  runtime::BatchResult result;
  try {
    Pending pending;
    check_markers(records, result, pending);
    std::set<std::int32_t> replayed;  // consumed again from the start: their records here come again
    for (const auto& tp : result.rewind_to_start) replayed.insert(tp.partition);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& m = *records[i];
      std::optional<std::string> error;
      if (m.topic() == topics_.titles) {
        if (replayed.count(m.partition())) continue;
        error = add_title(m.key().value_or(""), m.partition(), m.offset(), m.value(), pending);
      } else {
        flush(pending);  // titles before an invalidation are applied before it
        add_invalidation(*m.value(), pending, error);
      }
      if (error) result.dead_letters.emplace_back(i, std::move(*error));
    }
    flush(pending);
  } catch (const redis::Unavailable& e) {
    return runtime::BatchResult::retry_later(e.what());
  }
  return result;
}

}  // namespace anipipe::cache
