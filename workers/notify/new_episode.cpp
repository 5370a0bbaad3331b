#include "new_episode.hpp"

#include <stdexcept>

#include "json/json_writer.hpp"
#include "record_fields.hpp"

namespace anipipe::notify {

NewEpisode NewEpisode::parse(std::string_view json, simdjson::dom::parser& parser) {
  const auto doc = parse_record(json, parser, "new_episode");
  auto need = [](auto&& result, const char* what) { return required(std::forward<decltype(result)>(result), "new_episode", what); };
  NewEpisode e;
  e.event_id = std::string(need(doc["event_id"].get_string(), "event_id"));
  e.title_id = need(doc["title_id"].get_int64(), "title_id");
  const simdjson::dom::element episode = need(doc["episode"], "episode");
  const simdjson::dom::element title = need(doc["title"], "title");
  e.episode_id = std::string(need(episode["id"].get_string(), "episode.id"));
  e.ordinal = simdjson::minify(need(episode["ordinal"], "episode.ordinal"));
  std::string_view name;
  if (!episode["name"].get(name)) e.episode_name = std::string(name);
  e.title_ru = std::string(need(title["names"]["ru"].get_string(), "title.names.ru"));
  e.alias = std::string(need(title["alias"].get_string(), "title.alias"));
  e.episode_json = simdjson::minify(episode);
  e.title_json = simdjson::minify(title);
  e.detected_at = std::string(need(doc["detected_at"].get_string(), "detected_at"));
  return e;
}

std::string idempotency_key(std::int64_t title_id, std::string_view episode_id, std::string_view subscriber_id) {
  std::string k = std::to_string(title_id);
  k.reserve(k.size() + episode_id.size() + subscriber_id.size() + 2);
  k.append(":").append(episode_id).append(":").append(subscriber_id);
  return k;
}

namespace {
// `{"type":"new_episode",` + extra + `"title_id":…,"episode":…,"data":{"title":…,"episode_name":…`:
// what both formats share, the data object left open.
void append_seed_head(std::string& out, const NewEpisode& e, std::string_view extra) {
  out += R"({"type":"new_episode",)";
  out += extra;
  out += R"("title_id":)" + std::to_string(e.title_id) + R"(,"episode":)" + e.ordinal + R"(,"data":{"title":)";
  json::append_quoted(out, e.title_ru);
  out += R"(,"episode_name":)";
  if (e.episode_name) json::append_quoted(out, *e.episode_name);
  else out += "null";
}
}  // namespace

std::string seed001_payload(const NewEpisode& e) {
  std::string out;
  out.reserve(160 + e.title_ru.size());
  append_seed_head(out, e, {});
  out += R"(},"timestamp":)";
  json::append_quoted(out, e.detected_at);
  out += '}';
  return out;
}

std::string notify_payload(const NewEpisode& e, std::size_t subscribers) {
  std::string out;
  out.reserve(256 + e.episode_json.size() + e.title_json.size());
  std::string event_id = R"("event_id":)";
  json::append_quoted(event_id, e.event_id);
  append_seed_head(out, e, event_id + ",");
  out += R"(,"alias":)";
  json::append_quoted(out, e.alias);
  out += R"(,"episode_id":)";
  json::append_quoted(out, e.episode_id);
  out += R"(,"episode_detail":)" + e.episode_json + R"(,"title_detail":)" + e.title_json + R"(,"subscribers":)" +
         std::to_string(subscribers) + R"(},"timestamp":)";
  json::append_quoted(out, e.detected_at);
  out += '}';
  return out;
}

}  // namespace anipipe::notify
