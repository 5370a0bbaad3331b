#pragma once
// Reading a title document (schemas/anilibria.titles.schema.json) from a parsed DOM into the
// title model (title_model.hpp) held either way: the owning TitleDocument, or a view of the
// record read in place (cache). One set of reading rules for both: which fields, their defaults,
// episodes in canonical order.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "catalog/title_model.hpp"

namespace anipipe::catalog {
namespace detail {

inline std::optional<std::string_view> opt_string(simdjson::dom::element obj, const char* key) {
  simdjson::dom::element v;
  if (obj[key].get(v) || v.type() != simdjson::dom::element_type::STRING) return std::nullopt;
  return std::string_view(v);
}

inline std::optional<std::int64_t> opt_int(simdjson::dom::element obj, const char* key) {
  using T = simdjson::dom::element_type;
  simdjson::dom::element v;
  if (obj[key].get(v)) return std::nullopt;
  if (v.type() == T::INT64) return int64_t(v);
  if (v.type() == T::UINT64) return static_cast<std::int64_t>(uint64_t(v));
  if (v.type() == T::DOUBLE) return static_cast<std::int64_t>(double(v));
  return std::nullopt;
}

inline std::optional<double> opt_number(simdjson::dom::element obj, const char* key) {
  using T = simdjson::dom::element_type;
  simdjson::dom::element v;
  if (obj[key].get(v)) return std::nullopt;
  if (v.type() == T::INT64) return static_cast<double>(int64_t(v));
  if (v.type() == T::UINT64) return static_cast<double>(uint64_t(v));
  if (v.type() == T::DOUBLE) return double(v);
  return std::nullopt;
}

}  // namespace detail

/// Episodes by ordinal, then id: the canonical order.
template <class Episodes>
void sort_episodes(Episodes& eps) {
  std::sort(eps.begin(), eps.end(),
            [](const auto& a, const auto& b) { return a.ordinal != b.ordinal ? a.ordinal < b.ordinal : a.id < b.id; });
}

/// Sets every field of t from root (strings as views into root's parser; an owning type copies
/// them), except alias when the document has none: returns false then, for the caller to default
/// it to the id. Throws std::invalid_argument naming what is wrong.
template <class Text>
bool read_title(simdjson::dom::element root, BasicTitle<Text>& t) {
  using detail::opt_int, detail::opt_number, detail::opt_string;
  using simdjson::dom::element, simdjson::dom::element_type;
  if (root.type() != element_type::OBJECT) throw std::invalid_argument("title document is not an object");
  auto id = opt_int(root, "id");
  if (!id || *id < 1) throw std::invalid_argument("title document without a valid id");
  t.id = *id;
  const auto alias = opt_string(root, "alias");
  if (alias) t.alias = *alias;
  t.name_ru = std::string_view{};
  t.name_en = t.name_alternative = std::nullopt;
  element names;
  if (!root["names"].get(names) && names.type() == element_type::OBJECT) {
    t.name_ru = opt_string(names, "ru").value_or(std::string_view{});
    t.name_en = opt_string(names, "en");
    t.name_alternative = opt_string(names, "alternative");
  }
  t.type = opt_string(root, "type");
  t.year = opt_int(root, "year");
  t.season = opt_string(root, "season");
  t.status = opt_string(root, "status").value_or("unknown");
  t.genres.clear();
  simdjson::dom::array genres;
  if (!root["genres"].get(genres))
    for (auto g : genres)
      if (g.type() == element_type::STRING) t.genres.emplace_back(std::string_view(g));
  t.description = opt_string(root, "description");
  t.has_poster = false;
  t.poster_src = t.poster_thumbnail = std::nullopt;
  element poster;
  if (!root["poster"].get(poster) && poster.type() == element_type::OBJECT) {
    t.has_poster = true;
    t.poster_src = opt_string(poster, "src");
    t.poster_thumbnail = opt_string(poster, "thumbnail");
  }
  t.episodes_total = opt_int(root, "episodes_total");
  t.episodes.clear();
  simdjson::dom::array eps;
  if (!root["episodes"].get(eps)) {
    for (auto e : eps) {
      if (e.type() != element_type::OBJECT) continue;
      auto& ep = t.episodes.emplace_back();
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
    }
  }
  sort_episodes(t.episodes);
  t.fresh_at = opt_string(root, "fresh_at");
  t.updated_at = opt_string(root, "updated_at");
  return alias.has_value();
}

}  // namespace anipipe::catalog
