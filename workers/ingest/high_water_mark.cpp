#include "high_water_mark.hpp"

#include <simdjson.h>

#include "util/clock.hpp"

namespace anipipe::ingest {
namespace {

simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

}  // namespace

std::optional<HighWaterMark::Time> HighWaterMark::freshness_of(simdjson::dom::element release) {
  for (const char* key : {"fresh_at", "updated_at"}) {
    std::string_view text;
    if (!release[key].get_string().get(text))
      if (auto t = util::parse_rfc3339(text)) return t;
  }
  return std::nullopt;
}

void HighWaterMark::observe(std::optional<Time> freshness) {
  if (freshness && (!mark_ || *freshness > *mark_)) mark_ = freshness;
}

void HighWaterMark::observe_event(std::string_view event_json) {
  simdjson::dom::element root, title;
  std::string_view api;
  // Only what came from polling the v1 API: the v3 WebSocket's and replays' clocks say nothing
  // about how far the polls reached.
  if (parser().parse(event_json).get(root) || root["source"]["api"].get_string().get(api) || api != "v1" || root["title"].get(title))
    return;
  observe(freshness_of(title));
}

std::optional<HighWaterMark::Time> HighWaterMark::freshness_of_release(std::string_view release_json) {
  simdjson::dom::element root;
  if (parser().parse(release_json).get(root)) return std::nullopt;
  return freshness_of(root);
}

std::string HighWaterMark::to_string() const { return mark_ ? util::to_rfc3339(*mark_) : "none"; }

}  // namespace anipipe::ingest
