#include "cache_writer.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "cache_keys.hpp"
#include "catalog/title_v1.hpp"
#include "json/json_writer.hpp"
#include "util/clock.hpp"

namespace anipipe::cache {

namespace {

std::optional<std::int64_t> title_id_of(const kafka::Message& m) {
  const auto key = m.key();
  std::int64_t id = 0;
  if (!key || key->empty() || std::from_chars(key->data(), key->data() + key->size(), id).ec != std::errc() || id <= 0)
    return std::nullopt;
  return id;
}

double updated_score(const catalog::TitleDocument& t) {
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

}  // namespace

std::size_t CacheWriter::delete_matching(redis::Client& redis, const std::string& pattern) {
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
    for (const auto& k : found) unlink.push_back(k.str);
    deleted += static_cast<std::size_t>(redis.command(unlink).integer);
  } while (cursor != "0");
  return deleted;
}

CacheWriter::Previous CacheWriter::load_previous(const std::vector<std::int64_t>& ids) {
  Previous out;
  if (ids.empty()) return out;
  redis::Command mget{"MGET"};
  for (auto id : ids) mget.push_back(keys::v2_title(id));
  const auto r = redis_.command(mget);
  if (r.type != redis::Reply::Type::array || r.elements.size() != ids.size())
    throw redis::Unavailable("MGET answered " + (r.is_error() ? r.str : std::string("something unexpected")));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto& slot = out[ids[i]];
    if (r.elements[i].type != redis::Reply::Type::string) continue;
    try {
      slot = catalog::TitleDocument::parse(r.elements[i].str);
    } catch (const std::exception& e) {
      spdlog::warn("unreadable {} in Redis ({}); it is overwritten", keys::v2_title(ids[i]), e.what());
    }
  }
  return out;
}

void CacheWriter::write_title(const catalog::TitleDocument* before, const catalog::TitleDocument& doc, const std::string& json,
                              std::vector<redis::Command>& out) {
  const std::string id = std::to_string(doc.id);
  if (before) {
    if (before->alias != doc.alias) out.push_back({"DEL", keys::alias(before->alias)});
    for (const auto& g : before->genres)
      if (std::find(doc.genres.begin(), doc.genres.end(), g) == doc.genres.end()) out.push_back({"SREM", keys::genre(g), id});
    if (before->status != doc.status) out.push_back({"SREM", keys::status(before->status), id});
  }
  out.push_back({"SET", keys::v2_title(doc.id), json});
  out.push_back({"SET", keys::v1_title(doc.id), catalog::to_v1_json(doc)});
  out.push_back({"SET", keys::alias(doc.alias), id});
  char score[32];
  std::snprintf(score, sizeof score, "%.0f", updated_score(doc));
  out.push_back({"ZADD", std::string(keys::kUpdated), score, id});
  for (const auto& g : doc.genres) out.push_back({"SADD", keys::genre(g), id});
  out.push_back({"SADD", keys::status(doc.status), id});
}

void CacheWriter::remove_title(std::int64_t id, const catalog::TitleDocument* before, std::vector<redis::Command>& out) {
  const std::string sid = std::to_string(id);
  out.push_back({"DEL", keys::v2_title(id), keys::v1_title(id)});
  out.push_back({"ZREM", std::string(keys::kUpdated), sid});
  if (!before) return;
  out.push_back({"DEL", keys::alias(before->alias)});
  for (const auto& g : before->genres) out.push_back({"SREM", keys::genre(g), sid});
  out.push_back({"SREM", keys::status(before->status), sid});
}

void CacheWriter::flush(std::vector<redis::Command>& commands) {
  if (commands.empty()) return;
  const auto replies = redis_.pipeline(commands);
  for (std::size_t i = 0; i < replies.size(); ++i)
    if (replies[i].is_error()) throw redis::Unavailable(commands[i][0] + " " + commands[i][1] + " refused: " + replies[i].str);
  commands.clear();
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

void CacheWriter::check_markers(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result,
                                std::vector<redis::Command>& commands) {
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
        commands.push_back({"SET", keys::built_marker(topics_.titles, p), util::now_rfc3339()});
        replaying_.erase(p);
      }
      continue;
    }
    replaying_.insert(p);
    result.rewind_to_start.push_back({topics_.titles, p});
  }
}

runtime::BatchResult CacheWriter::handle_batch(const std::vector<const kafka::Message*>& records) {
  runtime::BatchResult result;
  // What Redis holds now for every title the batch touches; updated as the batch goes.
  std::vector<std::int64_t> ids;
  for (const auto* m : records)
    if (m->topic() == topics_.titles)
      if (auto id = title_id_of(*m)) ids.push_back(*id);
  try {
    std::vector<redis::Command> commands;
    check_markers(records, result, commands);
    auto current = load_previous(ids);
    simdjson::dom::parser parser;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& m = *records[i];
      if (m.topic() == topics_.titles) {
        const auto id = title_id_of(m);
        if (!id) {
          result.dead_letters.emplace_back(i, "a titles record whose key is not a title id");
          continue;
        }
        auto& known = current[*id];
        const auto value = m.value();
        if (!value) {
          remove_title(*id, known ? &*known : nullptr, commands);
          known.reset();
          continue;
        }
        catalog::TitleDocument doc;
        try {
          doc = catalog::TitleDocument::parse(*value);
        } catch (const std::exception& e) {
          result.dead_letters.emplace_back(i, std::string("unreadable title document: ") + e.what());
          continue;
        }
        if (doc.id != *id) {
          result.dead_letters.emplace_back(i, "key " + std::to_string(*id) + " carries title " + std::to_string(doc.id));
          continue;
        }
        write_title(known ? &*known : nullptr, doc, std::string(*value), commands);
        known = std::move(doc);
        continue;
      }
      // An invalidation (schema-checked: scope and its field are there).
      simdjson::dom::element root;
      if (parser.parse(*m.value()).get(root)) {
        result.dead_letters.emplace_back(i, "invalidation is not JSON");
        continue;
      }
      const std::string_view scope = root["scope"].get_string().value_unsafe();
      if (scope == "key") {
        const std::string key(root["key"].get_string().value_unsafe());
        commands.push_back({"DEL", key});
        commands.push_back({"PUBLISH", std::string(keys::kInvalidateChannel), publish_json(scope, "key", key, std::nullopt, std::nullopt)});
      } else if (scope == "title") {
        const std::int64_t id = root["title_id"].get_int64().value_unsafe();
        commands.push_back({"DEL", keys::v2_title(id), keys::v1_title(id)});
        commands.push_back({"PUBLISH", std::string(keys::kInvalidateChannel), publish_json(scope, "", "", id, std::nullopt)});
      } else {
        const std::string pattern(root["pattern"].get_string().value_unsafe());
        flush(commands);  // what came before the pattern is applied before it
        const auto n = delete_matching(redis_, pattern);
        commands.push_back({"PUBLISH", std::string(keys::kInvalidateChannel), publish_json(scope, "pattern", pattern, std::nullopt, n)});
        spdlog::info("invalidated {} key(s) matching {}", n, pattern);
      }
    }
    flush(commands);
  } catch (const redis::Unavailable& e) {
    return runtime::BatchResult::retry_later(e.what());
  }
  return result;
}

}  // namespace anipipe::cache
