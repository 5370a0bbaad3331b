#pragma once
// The anilibria.titles JSON layout in one place, for the title model (title_model.hpp) held either
// way: ingest's views (built per event, never copied) and catalog::TitleDocument (owning, kept in
// state) both serialize through here, so the bytes they write for the same content are the same.
#include <string_view>

#include "catalog/title_model.hpp"
#include "json/json_writer.hpp"

namespace anipipe::catalog {

template <class Text>
void write_episode(json::Writer& w, const BasicEpisode<Text>& e) {
  w.begin_object().field("id", e.id).field("ordinal", e.ordinal).field("name", e.name).field("duration", e.duration);
  w.key("hls").begin_object().field("480", e.hls_480).field("720", e.hls_720).field("1080", e.hls_1080).end_object();
  w.field("updated_at", e.updated_at).end_object();
}

template <class Text>
void write_names(json::Writer& w, const BasicTitle<Text>& t) {
  w.key("names").begin_object().field("ru", t.name_ru).field("en", t.name_en).field("alternative", t.name_alternative).end_object();
}

template <class Text>
void write_poster(json::Writer& w, const BasicTitle<Text>& t) {
  w.key("poster");
  if (t.has_poster) w.begin_object().field("src", t.poster_src).field("thumbnail", t.poster_thumbnail).end_object();
  else w.null();
}

template <class Text>
void write_title(json::Writer& w, const BasicTitle<Text>& t, std::string_view source) {
  w.begin_object();
  w.field("id", t.id).field("alias", t.alias);
  write_names(w, t);
  w.field("type", t.type).field("year", t.year).field("season", t.season).field("status", t.status);
  w.key("genres").begin_array();
  for (const auto& g : t.genres) w.value(g);
  w.end_array();
  w.field("description", t.description);
  write_poster(w, t);
  w.field("episodes_total", t.episodes_total);
  w.key("episodes").begin_array();
  for (const auto& e : t.episodes) write_episode(w, e);
  w.end_array();
  w.field("fresh_at", t.fresh_at).field("updated_at", t.updated_at).field("source", source);
  w.end_object();
}

}  // namespace anipipe::catalog
