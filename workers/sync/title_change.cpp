#include "title_change.hpp"

#include "json/json_writer.hpp"

namespace anipipe::sync {
namespace {

std::string new_episode_json(const catalog::TitleDocument& t, const catalog::Episode& e, std::string_view detected_at) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.field("event_id", std::to_string(t.id) + ":" + e.id).field("title_id", t.id);
  w.key("episode").begin_object().field("id", e.id).field("ordinal", e.ordinal).field("name", e.name).field("duration", e.duration);
  w.key("hls").begin_object().field("480", e.hls_480).field("720", e.hls_720).field("1080", e.hls_1080).end_object();
  w.field("updated_at", e.updated_at).end_object();
  w.key("title").begin_object().field("alias", t.alias);
  w.key("names").begin_object().field("ru", t.name_ru).field("en", t.name_en).field("alternative", t.name_alternative).end_object();
  w.key("poster");
  if (t.has_poster) w.begin_object().field("src", t.poster_src).field("thumbnail", t.poster_thumbnail).end_object();
  else w.null();
  w.end_object();
  w.field("detected_at", detected_at);
  w.end_object();
  return out;
}

}  // namespace

TitleChange compare(const catalog::TitleDocument* known, const catalog::TitleDocument& observed, std::string_view detected_at) {
  TitleChange c;
  c.merged = known ? catalog::merge(*known, observed) : observed;
  if (known && c.merged == *known) return c;
  c.changed = true;
  c.merged_json = c.merged.to_json();
  for (const auto* e : catalog::new_episodes(known, c.merged)) c.new_episodes.push_back(new_episode_json(c.merged, *e, detected_at));
  return c;
}

}  // namespace anipipe::sync
