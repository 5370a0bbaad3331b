#pragma once
// The old Node.js back end's title format (the seeds' v1 API, `anilibria:v1:*` in Redis): what the
// site's existing code reads, produced from the v2 document so both stay in step. cache writes it
// to Redis; the edge serves it under /api/anilibria/v1/. Field names are the Node.js model's
// (camelCase, aniLibriaId, code = alias, episodes numbered).
#include <string>

#include "catalog/title_document.hpp"
#include "catalog/title_model.hpp"
#include "json/json_writer.hpp"

namespace anipipe::catalog {

/// For the title model held either way (the owning document, or a view of one read in place), so
/// every v1 text comes from one place.
template <class Text>
void write_v1(json::Writer& w, const BasicTitle<Text>& t) {
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
}

std::string to_v1_json(const TitleDocument& t);

}  // namespace anipipe::catalog
