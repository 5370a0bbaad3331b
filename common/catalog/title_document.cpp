#include "catalog/title_document.hpp"

#include <charconv>

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "catalog/title_json.hpp"

namespace anipipe::catalog {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<std::string> opt_string(element obj, const char* key) {
  element v;
  if (obj[key].get(v) || v.type() != element_type::STRING) return std::nullopt;
  return std::string(std::string_view(v));
}

std::optional<std::int64_t> opt_int(element obj, const char* key) {
  element v;
  if (obj[key].get(v)) return std::nullopt;
  if (v.type() == element_type::INT64) return int64_t(v);
  if (v.type() == element_type::UINT64) return static_cast<std::int64_t>(uint64_t(v));
  if (v.type() == element_type::DOUBLE) return static_cast<std::int64_t>(double(v));
  return std::nullopt;
}

std::optional<double> opt_number(element obj, const char* key) {
  element v;
  if (obj[key].get(v)) return std::nullopt;
  if (v.type() == element_type::INT64) return static_cast<double>(int64_t(v));
  if (v.type() == element_type::UINT64) return static_cast<double>(uint64_t(v));
  if (v.type() == element_type::DOUBLE) return double(v);
  return std::nullopt;
}

void sort_episodes(std::vector<Episode>& eps) {
  std::sort(eps.begin(), eps.end(), [](const Episode& a, const Episode& b) {
    return a.ordinal != b.ordinal ? a.ordinal < b.ordinal : a.id < b.id;
  });
}

}  // namespace

TitleDocument TitleDocument::parse(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root))
    throw std::invalid_argument(std::string("title document is not JSON: ") + simdjson::error_message(err));
  return parse(root);
}

TitleDocument TitleDocument::parse(const simdjson::dom::element& root) {
  if (root.type() != element_type::OBJECT) throw std::invalid_argument("title document is not an object");
  TitleDocument t;
  auto id = opt_int(root, "id");
  if (!id || *id < 1) throw std::invalid_argument("title document without a valid id");
  t.id = *id;
  t.alias = opt_string(root, "alias").value_or(std::to_string(t.id));
  element names;
  if (!root["names"].get(names) && names.type() == element_type::OBJECT) {
    t.name_ru = opt_string(names, "ru").value_or("");
    t.name_en = opt_string(names, "en");
    t.name_alternative = opt_string(names, "alternative");
  }
  t.type = opt_string(root, "type");
  t.year = opt_int(root, "year");
  t.season = opt_string(root, "season");
  t.status = opt_string(root, "status").value_or("unknown");
  simdjson::dom::array genres;
  if (!root["genres"].get(genres))
    for (auto g : genres)
      if (g.type() == element_type::STRING) t.genres.emplace_back(std::string_view(g));
  t.description = opt_string(root, "description");
  element poster;
  if (!root["poster"].get(poster) && poster.type() == element_type::OBJECT) {
    t.has_poster = true;
    t.poster_src = opt_string(poster, "src");
    t.poster_thumbnail = opt_string(poster, "thumbnail");
  }
  t.episodes_total = opt_int(root, "episodes_total");
  simdjson::dom::array eps;
  if (!root["episodes"].get(eps)) {
    for (auto e : eps) {
      if (e.type() != element_type::OBJECT) continue;
      Episode ep;
      auto eid = opt_string(e, "id");
      auto ord = opt_number(e, "ordinal");
      if (!eid || !ord) throw std::invalid_argument("title document with an episode lacking id or ordinal");
      ep.id = *eid;
      ep.ordinal = *ord;
      ep.name = opt_string(e, "name");
      ep.duration = opt_int(e, "duration");
      element hls;
      if (!e["hls"].get(hls) && hls.type() == element_type::OBJECT) {
        ep.hls_480 = opt_string(hls, "480");
        ep.hls_720 = opt_string(hls, "720");
        ep.hls_1080 = opt_string(hls, "1080");
      }
      ep.updated_at = opt_string(e, "updated_at");
      t.episodes.push_back(std::move(ep));
    }
  }
  sort_episodes(t.episodes);
  t.fresh_at = opt_string(root, "fresh_at");
  t.updated_at = opt_string(root, "updated_at");
  t.source = opt_string(root, "source").value_or("v1");
  return t;
}

std::string TitleDocument::to_json() const {
  std::string out;
  out.reserve(512 + (description ? description->size() : 0) + episodes.size() * 256);
  json::Writer w(out);
  write_title(w, *this, source);
  return out;
}

const Episode* TitleDocument::find_episode(std::string_view episode_id) const {
  for (const auto& e : episodes)
    if (e.id == episode_id) return &e;
  return nullptr;
}

TitleDocument merge(const TitleDocument& known, const TitleDocument& incoming) {
  TitleDocument out = incoming;
  std::map<std::string, Episode, std::less<>> by_id;
  for (const auto& e : known.episodes) by_id[e.id] = e;
  for (const auto& e : incoming.episodes) by_id[e.id] = e;
  out.episodes.clear();
  for (auto& [_, e] : by_id) out.episodes.push_back(std::move(e));
  sort_episodes(out.episodes);
  return out;
}

std::vector<const Episode*> new_episodes(const TitleDocument* before, const TitleDocument& after) {
  std::vector<const Episode*> out;
  for (const auto& e : after.episodes)
    if (!before || !before->find_episode(e.id)) out.push_back(&e);
  return out;
}

std::optional<std::int64_t> parse_title_id(std::string_view text) {
  std::int64_t id = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || ec != std::errc{} || p != end || id < 1) return std::nullopt;
  return id;
}

}  // namespace anipipe::catalog
