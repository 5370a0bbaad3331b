#include "upstream/normalize_v3.hpp"

#include <chrono>
#include <cstdio>

#include "upstream/derived_text.hpp"
#include "upstream/lenient_json.hpp"
#include "util/clock.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace v3 {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;
namespace lj = lenient;

std::optional<std::string_view> unix_to_rfc3339(std::optional<std::int64_t> secs) {
  // Outside 1970..2100 it is garbage, and converting it to nanoseconds could overflow.
  if (!secs || *secs <= 0 || *secs >= 4'102'444'800) return std::nullopt;
  return derived_text::keep(util::to_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(*secs))));
}

/// v3 HLS paths are relative to player.host.
std::optional<std::string_view> hls_url(std::optional<std::string_view> path, std::string_view host) {
  if (!path || path->empty()) return std::nullopt;
  if (path->starts_with("http://") || path->starts_with("https://") || host.empty()) return *path;
  return derived_text::keep("https://", host, *path);
}

std::string_view synthetic_episode_id(std::int64_t title_id, double ordinal) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "v3-%lld-%g", static_cast<long long>(title_id), ordinal);
  return derived_text::keep(std::string_view(buf, static_cast<std::size_t>(n)));
}

/// One player.list entry. The map key (object form) is the fallback ordinal.
bool parse_playlist_episode(object& item, std::int64_t title_id, std::string_view host, std::optional<double> key_ordinal, Episode& ep) {
  auto ordinal = lj::number_field(item, "episode");
  if (!ordinal) ordinal = key_ordinal;
  if (!ordinal || *ordinal < 0 || *ordinal > 1e6) return false;
  ep.ordinal = *ordinal;
  auto uuid = lj::string_field(item, "uuid");
  ep.id = uuid && !uuid->empty() ? *uuid : synthetic_episode_id(title_id, *ordinal);
  ep.name = lj::string_field(item, "name");
  ep.updated_at = unix_to_rfc3339(lj::int_field(item, "created_timestamp"));
  if (auto hls = lj::object_field(item, "hls")) {
    ep.hls_1080 = hls_url(lj::string_field(*hls, "fhd"), host);
    ep.hls_720 = hls_url(lj::string_field(*hls, "hd"), host);
    ep.hls_480 = hls_url(lj::string_field(*hls, "sd"), host);
  }
  return true;
}

/// player.list: an object keyed by episode number by default, an array with playlist_type=array.
void parse_playlist(value list, std::int64_t title_id, std::string_view host, std::vector<Episode>& out) {
  json_type t{};
  if (!lj::ok(list.type().get(t))) return;
  if (t == json_type::object) {
    auto o = lj::as_object(list);
    if (!o) return;
    for (auto field : *o) {
      std::string_view key;
      if (lj::broken() || !lj::ok(field.error()) || !lj::ok(field.unescaped_key().get(key))) break;
      std::optional<double> key_ordinal;
      try {
        key_ordinal = std::stod(std::string(key));
      } catch (...) {
      }
      auto item = lj::as_object(field.value());
      if (!item) continue;
      Episode ep;
      if (parse_playlist_episode(*item, title_id, host, key_ordinal, ep)) out.push_back(std::move(ep));
    }
  } else if (t == json_type::array) {
    auto a = lj::as_array(list);
    if (!a) return;
    for (auto element : *a) {
      value ev;
      if (lj::broken() || !lj::ok(element.get(ev))) break;
      auto item = lj::as_object(ev);
      if (!item) continue;
      Episode ep;
      if (parse_playlist_episode(*item, title_id, host, std::nullopt, ep)) out.push_back(std::move(ep));
    }
  }
}

std::optional<std::string_view> season_from_code(std::optional<std::int64_t> code) {
  static constexpr std::string_view names[] = {"winter", "spring", "summer", "autumn"};
  if (!code || *code < 1 || *code > 4) return std::nullopt;
  return names[*code - 1];
}

bool parse_title(object& t, Title& out, std::string* why) {
  auto id = lj::int_field(t, "id");
  if (!id || *id < 1) {
    *why = "v3 title without a usable id";
    return false;
  }
  out.id = *id;
  auto code = lj::string_field(t, "code");
  out.alias = code && !code->empty() && code->size() <= 256 ? *code : derived_text::keep(std::to_string(*id));
  if (auto names = lj::object_field(t, "names")) {
    if (auto ru = lj::string_field(*names, "ru")) out.name_ru = *ru;
    out.name_en = lj::string_field(*names, "en");
    out.name_alternative = lj::string_field(*names, "alternative");
  }
  if (auto status = lj::object_field(t, "status")) {
    auto c = lj::int_field(*status, "code");
    out.status = c == 1 ? "ongoing" : c == 2 ? "finished" : "unknown";
  }
  if (auto posters = lj::object_field(t, "posters")) {
    out.has_poster = true;
    if (auto original = lj::object_field(*posters, "original")) out.poster_src = lj::string_field(*original, "url");
    if (auto small = lj::object_field(*posters, "small")) out.poster_thumbnail = lj::string_field(*small, "url");
  }
  out.fresh_at = unix_to_rfc3339(lj::int_field(t, "updated"));
  out.updated_at = unix_to_rfc3339(lj::int_field(t, "last_change"));
  if (auto type = lj::object_field(t, "type")) {
    out.type = lj::string_field(*type, "string");
    if (auto n = lj::int_field(*type, "episodes"); n && *n >= 0) out.episodes_total = *n;
  }
  if (auto genres = lj::field(t, "genres")) {
    if (auto a = lj::as_array(*genres))
      for (auto g : *a) {
        value gv;
        if (lj::broken() || !lj::ok(g.get(gv))) break;
        if (auto s = lj::as_string(gv)) out.genres.push_back(*s);
      }
  }
  if (auto season = lj::object_field(t, "season")) {
    if (auto y = lj::int_field(*season, "year"); y && *y >= 1900 && *y <= 2100) out.year = *y;
    out.season = season_from_code(lj::int_field(*season, "code"));
  }
  out.description = lj::string_field(t, "description");
  if (auto player = lj::object_field(t, "player")) {
    const std::string_view host = lj::string_field(*player, "host").value_or("");
    if (auto list = lj::field(*player, "list")) {
      parse_playlist(*list, out.id, host, out.episodes);
      out.episodes_listed = true;
    }
  }
  if (out.name_ru.empty()) out.name_ru = out.alias;
  return true;
}

bool title_id_of(object& data, UpstreamEvent& e, std::string* why) {
  auto id = lj::int_field(data, "id");  // a string in encode_*/torrent_update, an int in playlist_update
  if (!id || *id < 1) {
    *why = "v3 frame without a usable title id";
    return false;
  }
  e.title_id = *id;
  return true;
}

/// playlist_update: updated_episode, when it parses, names the episode; the bare episode number is the fallback.
FrameResult playlist_event(object& data, UpstreamEvent& e, std::string* why) {
  if (!title_id_of(data, e, why)) return FrameResult::rejected;
  EpisodeRef ref;
  auto number = lj::number_field(data, "episode");
  if (auto updated = lj::object_field(data, "updated_episode")) {
    Episode ep;
    if (parse_playlist_episode(*updated, e.title_id, "", number, ep)) {
      ref.id = ep.id;
      ref.ordinal = ep.ordinal;
      ref.name = ep.name;
      number = ep.ordinal;
    }
  }
  if (!number || *number < 0 || *number > 1e6) {
    *why = "playlist_update without an episode number";
    return FrameResult::rejected;
  }
  ref.ordinal = *number;
  if (!ref.id) ref.id = synthetic_episode_id(e.title_id, *number);
  ref.reupload = lj::bool_field(data, "reupload");
  e.kind = "playlist_update";
  e.episode = std::move(ref);
  return FrameResult::event;
}

/// torrent_update: the frame lists every torrent of the title; it is about updated_torrent_id's, or the first listed without one.
FrameResult torrent_event(object& data, UpstreamEvent& e, std::string* why) {
  if (!title_id_of(data, e, why)) return FrameResult::rejected;
  Torrent tor;
  tor.id = lj::int_field(data, "updated_torrent_id");
  if (auto torrents = lj::object_field(data, "torrents")) {
    if (auto list = lj::field(*torrents, "list")) {
      if (auto a = lj::as_array(*list))
        for (auto element : *a) {
          value ev;
          if (lj::broken() || !lj::ok(element.get(ev))) break;
          auto as_obj = lj::as_object(ev);
          if (!as_obj) continue;
          object& item = *as_obj;
          if (tor.id && lj::int_field(item, "torrent_id") != tor.id) continue;
          if (!tor.id) tor.id = lj::int_field(item, "torrent_id");
          if (auto eps = lj::object_field(item, "episodes")) tor.episodes = lj::string_field(*eps, "string");
          if (auto q = lj::object_field(item, "quality")) tor.quality = lj::string_field(*q, "string");
          break;
        }
    }
  }
  e.kind = "torrent_update";
  e.torrent = tor;
  return FrameResult::event;
}

}  // namespace

FrameResult frame_event(std::string_view type, object& data, UpstreamEvent& e, std::string* why) {
  e.generation = "v3";
  if (type == "title_update") {
    auto title = lj::object_field(data, "title");
    if (!title) {
      *why = "title_update without a title";
      return FrameResult::rejected;
    }
    Title t;
    if (!parse_title(*title, t, why)) return FrameResult::rejected;
    e.kind = "title_update";
    e.title_id = t.id;
    e.title = std::move(t);
    return FrameResult::event;
  }
  if (type == "playlist_update") return playlist_event(data, e, why);
  if (type == "encode_start" || type == "encode_progress" || type == "encode_end" || type == "encode_finish") {
    if (!title_id_of(data, e, why)) return FrameResult::rejected;
    Encode enc;
    enc.episode = lj::number_field(data, "episode");
    enc.resolution = lj::string_field(data, "resolution");
    enc.quality = lj::string_field(data, "quality");
    if (auto p = lj::number_field(data, "encoded_percent"); p && *p >= 0 && *p <= 100) enc.progress = *p;
    // The doc says isReupload, the Dart client reads is_reupload: accept both.
    auto reupload = lj::bool_field(data, "isReupload");
    if (!reupload) reupload = lj::bool_field(data, "is_reupload");
    if (enc.episode && *enc.episode >= 0 && reupload) e.episode = EpisodeRef{std::nullopt, *enc.episode, std::nullopt, reupload};
    e.kind = type == "encode_start"      ? "encode_start"
             : type == "encode_progress" ? "encode_progress"
             : type == "encode_end"      ? "encode_end"
                                         : "encode_finish";
    e.encode = enc;
    return FrameResult::event;
  }
  if (type == "torrent_update") return torrent_event(data, e, why);
  *why = std::string(type);
  return FrameResult::unknown_type;
}

}  // namespace v3
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
