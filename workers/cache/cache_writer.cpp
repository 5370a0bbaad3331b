#include "cache_writer.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include <openssl/sha.h>

#include "cache_keys.hpp"
#include "catalog/title_document.hpp"
#include "catalog/title_v1.hpp"
#include "title_script.hpp"
#include "json/json_writer.hpp"
#include "util/clock.hpp"

namespace anipipe::cache {

namespace {

std::optional<std::int64_t> title_id_of(std::string_view key) {
  std::int64_t id = 0;
  if (key.empty() || std::from_chars(key.data(), key.data() + key.size(), id).ec != std::errc() || id <= 0) return std::nullopt;
  return id;
}

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
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

CacheWriter::CacheWriter(redis::Client& redis, CacheTopics topics)
    : redis_(redis), topics_(std::move(topics)), script_sha_(sha1_hex(kApplyTitleScript)) {}

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
                                                  std::optional<std::string_view> value, std::vector<redis::Command>& out) const {
  const auto id = title_id_of(key);
  if (!id) return "a titles record whose key is not a title id";
  redis::Command cmd{"EVALSHA", script_sha_, "0", std::to_string(*id), std::to_string(partition), std::to_string(offset)};
  if (!value) {
    cmd.emplace_back();  // tombstone
    out.push_back(std::move(cmd));
    return std::nullopt;
  }
  catalog::TitleDocument doc;
  try {
    doc = catalog::TitleDocument::parse(*value);
  } catch (const std::exception& e) {
    return std::string("unreadable title document: ") + e.what();
  }
  if (doc.id != *id) return "key " + std::to_string(*id) + " carries title " + std::to_string(doc.id);
  char score[32];
  std::snprintf(score, sizeof score, "%.0f", updated_score(doc));
  cmd.emplace_back(*value);
  cmd.push_back(catalog::to_v1_json(doc));
  cmd.push_back(doc.alias);
  cmd.emplace_back(score);
  cmd.push_back(doc.status);
  for (auto& g : doc.genres) cmd.push_back(std::move(g));
  out.push_back(std::move(cmd));
  return std::nullopt;
}

void CacheWriter::flush(std::vector<redis::Command>& commands) {
  if (commands.empty()) return;
  for (int attempt = 0;; ++attempt) {
    const auto replies = redis_.pipeline(commands);
    bool reload = false;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (!replies[i].is_error()) continue;
      // A restarted or flushed Redis forgets scripts: load it and send the (idempotent) batch again.
      if (replies[i].str.starts_with("NOSCRIPT") && attempt == 0) {
        reload = true;
        break;
      }
      throw redis::Unavailable(commands[i][0] + " " + commands[i][1] + " refused: " + replies[i].str);
    }
    if (!reload) break;
    const auto r = redis_.command({"SCRIPT", "LOAD", std::string(kApplyTitleScript)});
    if (r.is_error() || r.str != script_sha_) throw redis::Unavailable("SCRIPT LOAD failed: " + r.str);
  }
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

void CacheWriter::add_invalidation(std::string_view json, std::vector<redis::Command>& commands, std::optional<std::string>& error) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) {
    error = "invalidation is not JSON";
    return;
  }
  // Schema-checked already: scope and its field are there.
  const std::string_view scope = root["scope"].get_string().value_unsafe();
  const std::string channel(keys::kInvalidateChannel);
  if (scope == "key") {
    const std::string key(root["key"].get_string().value_unsafe());
    commands.push_back({"DEL", key});
    commands.push_back({"PUBLISH", channel, publish_json(scope, "key", key, std::nullopt, std::nullopt)});
  } else if (scope == "title") {
    const std::int64_t id = root["title_id"].get_int64().value_unsafe();
    commands.push_back({"DEL", keys::v2_title(id), keys::v1_title(id)});
    commands.push_back({"PUBLISH", channel, publish_json(scope, "", "", id, std::nullopt)});
  } else {
    const std::string pattern(root["pattern"].get_string().value_unsafe());
    flush(commands);  // what came before the pattern is applied before it
    const auto n = delete_matching(redis_, pattern);
    commands.push_back({"PUBLISH", channel, publish_json(scope, "pattern", pattern, std::nullopt, n)});
    spdlog::info("invalidated {} key(s) matching {}", n, pattern);
  }
}

runtime::BatchResult CacheWriter::handle_batch(const std::vector<const kafka::Message*>& records) {
  runtime::BatchResult result;
  try {
    std::vector<redis::Command> commands;
    check_markers(records, result, commands);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& m = *records[i];
      std::optional<std::string> error;
      if (m.topic() == topics_.titles) error = add_title(m.key().value_or(""), m.partition(), m.offset(), m.value(), commands);
      else add_invalidation(*m.value(), commands, error);
      if (error) result.dead_letters.emplace_back(i, std::move(*error));
    }
    flush(commands);
  } catch (const redis::Unavailable& e) {
    return runtime::BatchResult::retry_later(e.what());
  }
  return result;
}

}  // namespace anipipe::cache
