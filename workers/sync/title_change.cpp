#include "title_change.hpp"

#include "catalog/title_json.hpp"

namespace anipipe::sync {
namespace {

std::string new_episode_json(const catalog::TitleDocument& t, const catalog::Episode& e, std::string_view detected_at) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.field("event_id", std::to_string(t.id) + ":" + e.id).field("title_id", t.id);
  w.key("episode");
  catalog::write_episode(w, e);
  w.key("title").begin_object().field("alias", t.alias);
  catalog::write_names(w, t);
  catalog::write_poster(w, t);
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
