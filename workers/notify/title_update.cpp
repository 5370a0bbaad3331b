#include "title_update.hpp"

#include <chrono>
#include <stdexcept>

#include "json/json_writer.hpp"
#include "record_fields.hpp"
#include "util/clock.hpp"

namespace anipipe::notify {

TitleUpdate TitleUpdate::parse(std::string_view json, std::string content_hash, std::int64_t timestamp_ms, simdjson::dom::parser& parser) {
  const auto doc = parse_record(json, parser, "title");
  auto need = [](auto&& result, const char* what) { return required(std::forward<decltype(result)>(result), "title", what); };
  TitleUpdate u;
  u.title_id = need(doc["id"].get_int64(), "id");
  u.content_hash = std::move(content_hash);
  u.title_ru = std::string(need(doc["names"]["ru"].get_string(), "names.ru"));
  u.alias = std::string(need(doc["alias"].get_string(), "alias"));
  std::string_view updated_at;
  if (!doc["updated_at"].get(updated_at)) u.updated_at = std::string(updated_at);
  // A record without a time (a broker too old to set one) is stamped when it is read.
  const auto at = timestamp_ms >= 0 ? std::chrono::system_clock::time_point(std::chrono::milliseconds(timestamp_ms))
                                    : std::chrono::system_clock::now();
  u.timestamp = util::to_rfc3339(at);
  return u;
}

std::string TitleUpdate::event_id() const { return "title_updated:" + std::to_string(title_id) + ":" + content_hash; }

std::string title_updated_payload(const TitleUpdate& u) {
  std::string out = R"({"type":"title_updated","event_id":)";
  json::append_quoted(out, u.event_id());
  out += R"(,"title_id":)" + std::to_string(u.title_id) + R"(,"data":{"title":)";
  json::append_quoted(out, u.title_ru);
  out += R"(,"alias":)";
  json::append_quoted(out, u.alias);
  out += R"(,"updated_at":)";
  if (u.updated_at) json::append_quoted(out, *u.updated_at);
  else out += "null";
  out += R"(,"content_hash":)";
  json::append_quoted(out, u.content_hash);
  out += R"(},"timestamp":)";
  json::append_quoted(out, u.timestamp);
  return out + "}";
}

std::string seed001_title_updated(const TitleUpdate& u) {
  std::string out = R"({"type":"title_updated","title_id":)" + std::to_string(u.title_id) + R"(,"timestamp":)";
  json::append_quoted(out, u.timestamp);
  return out + "}";
}

}  // namespace anipipe::notify
