#include "title_change.hpp"

#include "catalog/title_json.hpp"
#include "util/clock.hpp"

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

bool newer(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  const auto ta = a ? util::parse_rfc3339(*a) : std::nullopt;
  if (!ta) return false;
  const auto tb = b ? util::parse_rfc3339(*b) : std::nullopt;
  return !tb || *ta > *tb;
}

}  // namespace

bool may_hide_changes(const catalog::TitleDocument* known, const catalog::TitleDocument& seen) {
  if (!known) return true;
  for (const auto& e : seen.episodes)
    if (!known->find_ordinal(e.ordinal)) return true;
  if (seen.episodes_total && seen.episodes_total != known->episodes_total) return true;
  // A listing without episodes (the catalog walk) cannot show a new one, and fresh_at has whole
  // seconds: two uploads within the second the catalog's version has look the same. Unless it is
  // older than that version, look.
  if (seen.episodes.empty()) return !seen.fresh_at || !newer(known->fresh_at, seen.fresh_at);
  return newer(seen.fresh_at, known->fresh_at);
}

catalog::TitleDocument with_observation(const catalog::TitleDocument& fetched, const catalog::TitleDocument& seen) {
  // merge() keeps the known (here: the observation's) episodes the incoming release lacks, and
  // takes everything else from the release.
  auto doc = catalog::merge(seen, fetched);
  if (newer(seen.fresh_at, doc.fresh_at)) doc.fresh_at = seen.fresh_at;
  return doc;
}

TitleChange compare(const catalog::TitleDocument* known, const catalog::TitleDocument& observed, std::string_view detected_at,
                    bool announce) {
  TitleChange c;
  // Merged even with nothing known: an observation listing one ordinal twice keeps one of them.
  c.merged = catalog::merge(known ? *known : catalog::TitleDocument{}, observed);
  if (known && c.merged == *known) return c;
  c.changed = true;
  c.merged_json = c.merged.to_json();
  if (!announce) return c;
  for (const auto* e : catalog::new_episodes(known, c.merged)) c.new_episodes.push_back(new_episode_json(c.merged, *e, detected_at));
  return c;
}

}  // namespace anipipe::sync
