#include "upstream/normalize_v1.hpp"

#include <cmath>

#include "upstream/derived_text.hpp"
#include "upstream/lenient_json.hpp"
#include "util/clock.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace v1 {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
namespace lj = lenient;

/// A timestamp the contract can carry, or null: one garbled date must not sink a whole release.
std::optional<std::string_view> timestamp(std::optional<std::string_view> s) { return s && util::is_rfc3339(*s) ? s : std::nullopt; }

/// {"value": "TV", "description": "ТВ"}, or just "TV" in older payloads.
std::optional<std::string_view> enum_value(object& obj, std::string_view key) {
  auto v = lj::field(obj, key);
  if (!v) return std::nullopt;
  json_type t{};
  if (!lj::ok(v->type().get(t))) return std::nullopt;
  if (t == json_type::string) return lj::as_string(*v);
  auto o = lj::as_object(*v);
  return o ? lj::string_field(*o, "value") : std::nullopt;
}

std::optional<std::string_view> season_name(std::optional<std::string_view> s) {
  if (!s) return std::nullopt;
  for (std::string_view known : {"winter", "spring", "summer", "autumn"})
    if (*s == known) return known;
  if (*s == "fall") return std::string_view("autumn");
  return std::nullopt;
}

}  // namespace

bool parse_episode(object& ep, std::int64_t title_id, Episode& out, std::optional<std::int64_t>* release_id, std::string* why) {
  // Fields are looked up in the order the API sends them, so each lookup is one step forward.
  auto id = lj::string_field(ep, "id");
  out.name = lj::string_field(ep, "name");
  auto ordinal = lj::number_field(ep, "ordinal");
  if (!ordinal || *ordinal < 0 || *ordinal > 1e6) {
    *why = "episode without a usable ordinal";
    return false;
  }
  out.ordinal = *ordinal;
  if (id && !id->empty()) {
    out.id = *id;
  } else {
    // Never seen live, but the OpenAPI marks it optional: derive a stable id from the position.
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "v1-%lld-%g", static_cast<long long>(title_id), *ordinal);
    out.id = derived_text::keep(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  out.hls_480 = lj::string_field(ep, "hls_480");
  out.hls_720 = lj::string_field(ep, "hls_720");
  out.hls_1080 = lj::string_field(ep, "hls_1080");
  if (auto d = lj::number_field(ep, "duration"); d && *d >= 0 && *d < 1e9) out.duration = static_cast<std::int64_t>(std::llround(*d));
  out.updated_at = timestamp(lj::string_field(ep, "updated_at"));
  if (release_id) *release_id = lj::int_field(ep, "release_id");
  return true;
}

bool parse_release(object& r, Title& t, std::optional<EpisodeRef>* latest, std::string* why) {
  auto id = lj::int_field(r, "id");
  if (!id || *id < 1) {
    *why = "release without a usable id";
    return false;
  }
  t.id = *id;
  // In the order the live payload has them (docs/upstream.md, "Payload quirks"): each lookup is
  // then one step forward.
  t.type = enum_value(r, "type");
  if (auto y = lj::int_field(r, "year"); y && *y >= 1900 && *y <= 2100) t.year = *y;
  if (auto name = lj::object_field(r, "name")) {
    if (auto main = lj::string_field(*name, "main")) t.name_ru = *main;
    t.name_en = lj::string_field(*name, "english");
    t.name_alternative = lj::string_field(*name, "alternative");
  }
  if (auto alias = lj::string_field(r, "alias"); alias && !alias->empty() && alias->size() <= 256) t.alias = *alias;
  else t.alias = derived_text::keep(std::to_string(*id));
  t.season = season_name(enum_value(r, "season"));
  if (auto poster = lj::object_field(r, "poster")) {
    t.has_poster = true;
    // Live payloads say src/thumbnail, the OpenAPI says preview/thumbnail
    // (docs/upstream.md, "Payload quirks").
    t.poster_src = lj::string_field(*poster, "src");
    if (!t.poster_src) t.poster_src = lj::string_field(*poster, "preview");
    t.poster_thumbnail = lj::string_field(*poster, "thumbnail");
  }
  t.fresh_at = timestamp(lj::string_field(r, "fresh_at"));
  t.updated_at = timestamp(lj::string_field(r, "updated_at"));
  if (auto ongoing = lj::bool_field(r, "is_ongoing")) t.status = *ongoing ? "ongoing" : "finished";
  t.description = lj::string_field(r, "description");
  if (auto n = lj::int_field(r, "episodes_total"); n && *n >= 0) t.episodes_total = *n;
  if (auto genres = lj::field(r, "genres")) {
    if (auto arr = lj::as_array(*genres)) {
      for (auto g : *arr) {
        simdjson::ondemand::value gv;
        if (lj::broken() || !lj::ok(g.get(gv))) break;
        json_type gt{};
        if (!lj::ok(gv.type().get(gt))) break;
        if (gt == json_type::string) {
          if (auto s = lj::as_string(gv)) t.genres.push_back(*s);
        } else if (auto go = lj::as_object(gv)) {
          if (auto n = lj::string_field(*go, "name")) t.genres.push_back(*n);
        }
      }
    }
  }

  if (auto le = lj::object_field(r, "latest_episode")) {
    Episode ep;
    std::string ignored;
    if (parse_episode(*le, t.id, ep, nullptr, &ignored)) {
      if (latest) *latest = EpisodeRef{ep.id, ep.ordinal, ep.name, std::nullopt};
      t.episodes.push_back(std::move(ep));
    }
  }
  if (auto eps = lj::field(r, "episodes")) {
    if (auto arr = lj::as_array(*eps)) {
      t.episodes_listed = true;
      for (auto item : *arr) {
        simdjson::ondemand::value iv;
        if (lj::broken() || !lj::ok(item.get(iv))) break;
        auto eo = lj::as_object(iv);
        if (!eo) continue;
        Episode ep;
        std::string ignored;
        if (parse_episode(*eo, t.id, ep, nullptr, &ignored)) t.episodes.push_back(std::move(ep));
      }
    }
  }
  if (t.name_ru.empty()) t.name_ru = t.alias;
  return true;
}

bool release_event(object& obj, UpstreamEvent& e, std::string* why) {
  Title t;
  std::optional<EpisodeRef> latest;
  if (!parse_release(obj, t, &latest, why)) return false;
  e.kind = "release_changed";
  e.title_id = t.id;
  e.episode = std::move(latest);
  e.title = std::move(t);
  return true;
}

bool episode_event(object& obj, UpstreamEvent& e, std::string* why) {
  auto release_id = lj::int_field(obj, "release_id");
  if (!release_id || *release_id < 1) {
    *why = "episode without a usable release_id";
    return false;
  }
  Episode ep;
  if (!parse_episode(obj, *release_id, ep, nullptr, why)) return false;
  e.kind = "episode_published";
  e.title_id = *release_id;
  e.episode = EpisodeRef{ep.id, ep.ordinal, ep.name, std::nullopt};
  return true;
}

bool schedule_event(object& obj, UpstreamEvent& e, std::string* why) {
  auto release = lj::object_field(obj, "release");
  if (!release) {
    *why = "schedule item without a release";
    return false;
  }
  Title t;
  if (!parse_release(*release, t, nullptr, why)) return false;
  if (auto pub = lj::object_field(obj, "published_release_episode")) {
    Episode ep;
    std::string ignored;
    if (parse_episode(*pub, t.id, ep, nullptr, &ignored)) {
      e.episode = EpisodeRef{ep.id, ep.ordinal, ep.name, std::nullopt};
      bool known = false;
      for (const auto& have : t.episodes) known |= have.id == ep.id;
      if (!known) t.episodes.push_back(std::move(ep));
    }
  }
  if (auto next = lj::number_field(obj, "next_release_episode_number"); next && *next >= 0) e.next_episode = *next;
  e.kind = "schedule_item";
  e.title_id = t.id;
  e.title = std::move(t);
  return true;
}

}  // namespace v1
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
