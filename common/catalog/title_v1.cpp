#include "catalog/title_v1.hpp"

#include "json/json_writer.hpp"

namespace anipipe::catalog {

std::string to_v1_json(const TitleDocument& t) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.field("id", t.id).field("aniLibriaId", t.id).field("code", t.alias);
  w.key("names").begin_object().field("ru", t.name_ru).field("en", t.name_en).field("alternative", t.name_alternative).end_object();
  w.field("description", t.description).field("type", t.type).field("year", t.year).field("season", t.season).field("status", t.status);
  w.key("genres").begin_array();
  for (const auto& g : t.genres) w.value(g);
  w.end_array();
  w.key("poster");
  if (t.has_poster) w.begin_object().field("url", t.poster_src).field("thumbnail", t.poster_thumbnail).end_object();
  else w.null();
  w.field("episodesTotal", t.episodes_total);
  w.key("episodes").begin_array();
  for (const auto& e : t.episodes) {
    w.begin_object().field("number", e.ordinal).field("uuid", e.id).field("name", e.name).field("duration", e.duration);
    w.key("hls").begin_object().field("fhd", e.hls_1080).field("hd", e.hls_720).field("sd", e.hls_480).end_object();
    w.field("updatedAt", e.updated_at).end_object();
  }
  w.end_array();
  w.field("updatedAt", t.updated_at);
  w.key("lastSynced").begin_object().field("anilibria", t.fresh_at ? t.fresh_at : t.updated_at).end_object();
  w.end_object();
  return out;
}

}  // namespace anipipe::catalog
