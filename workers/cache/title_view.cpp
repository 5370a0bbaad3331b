#include "title_view.hpp"

#include <algorithm>
#include <stdexcept>

namespace anipipe::cache {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<std::string_view> opt_string(element obj, const char* key) {
  element v;
  if (obj[key].get(v) || v.type() != element_type::STRING) return std::nullopt;
  return std::string_view(v);
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

}  // namespace

void TitleView::read(element root) {
  if (root.type() != element_type::OBJECT) throw std::invalid_argument("title document is not an object");
  auto doc_id = opt_int(root, "id");
  if (!doc_id || *doc_id < 1) throw std::invalid_argument("title document without a valid id");
  id = *doc_id;
  if (auto a = opt_string(root, "alias")) {
    alias = *a;
  } else {
    id_text_ = std::to_string(id);
    alias = id_text_;
  }
  name_ru = {};
  name_en = name_alternative = std::nullopt;
  element names;
  if (!root["names"].get(names) && names.type() == element_type::OBJECT) {
    name_ru = opt_string(names, "ru").value_or(std::string_view{});
    name_en = opt_string(names, "en");
    name_alternative = opt_string(names, "alternative");
  }
  type = opt_string(root, "type");
  year = opt_int(root, "year");
  season = opt_string(root, "season");
  status = opt_string(root, "status").value_or("unknown");
  genres.clear();
  simdjson::dom::array genre_list;
  if (!root["genres"].get(genre_list))
    for (auto g : genre_list)
      if (g.type() == element_type::STRING) genres.emplace_back(std::string_view(g));
  description = opt_string(root, "description");
  has_poster = false;
  poster_src = poster_thumbnail = std::nullopt;
  element poster;
  if (!root["poster"].get(poster) && poster.type() == element_type::OBJECT) {
    has_poster = true;
    poster_src = opt_string(poster, "src");
    poster_thumbnail = opt_string(poster, "thumbnail");
  }
  episodes_total = opt_int(root, "episodes_total");
  episodes.clear();
  simdjson::dom::array eps;
  if (!root["episodes"].get(eps)) {
    for (auto e : eps) {
      if (e.type() != element_type::OBJECT) continue;
      EpisodeView ep;
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
      episodes.push_back(ep);
    }
  }
  // As TitleDocument orders them (canonical documents already are, so this is a check pass).
  std::stable_sort(episodes.begin(), episodes.end(), [](const EpisodeView& a, const EpisodeView& b) {
    return a.ordinal != b.ordinal ? a.ordinal < b.ordinal : a.id < b.id;
  });
  fresh_at = opt_string(root, "fresh_at");
  updated_at = opt_string(root, "updated_at");
}

}  // namespace anipipe::cache
