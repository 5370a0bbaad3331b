#pragma once
// AniLiberty v1 payloads (docs/upstream.md, "v1 release, episode and schedule fields" and
// "Payload quirks") into the normalized model.
#include <simdjson.h>

#include <string>

#include "upstream/isa.hpp"
#include "upstream/upstream_event.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace v1 {

/// A release: /anime/releases/latest item (with latest_episode) or a full release (with episodes[]).
/// Returns false and sets *why when the payload has no usable id.
bool parse_release(simdjson::ondemand::object& release, Title& out, std::optional<EpisodeRef>* latest, std::string* why);
/// One episode; *release_id from its release_id field when present.
bool parse_episode(simdjson::ondemand::object& episode, std::int64_t title_id, Episode& out, std::optional<std::int64_t>* release_id,
                   std::string* why);

bool release_event(simdjson::ondemand::object& obj, UpstreamEvent& e, std::string* why);
bool episode_event(simdjson::ondemand::object& obj, UpstreamEvent& e, std::string* why);
bool schedule_event(simdjson::ondemand::object& obj, UpstreamEvent& e, std::string* why);

}  // namespace v1
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
