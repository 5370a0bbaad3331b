#pragma once
// One normalized upstream observation: the value of anilibria.upstream.events
// (schemas/anilibria.upstream.events.schema.json). String fields are views into the parser's
// buffers, or into derived_text.hpp's arena for text made from the payload: an UpstreamEvent lives
// only until it is serialized.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/title_model.hpp"

namespace anipipe::json {
class WriteObserver;
}

namespace anipipe::upstream {

using Episode = catalog::BasicEpisode<std::string_view>;

/// The title model (catalog/title_model.hpp) in views, and what an observation adds to it.
struct Title : catalog::BasicTitle<std::string_view> {
  /// The payload listed every episode (a v1 release's episodes[], a v3 player.list), not just the
  /// latest one: the event says so (episodes_complete), and sync need not fetch the release.
  bool episodes_listed = false;
};

struct EpisodeRef {
  std::optional<std::string_view> id;
  double ordinal = 0;
  std::optional<std::string_view> name;
  std::optional<bool> reupload;
};

struct Encode {
  std::optional<double> episode;
  std::optional<std::string_view> resolution, quality;
  std::optional<double> progress;
};

struct Torrent {
  std::optional<std::int64_t> id;
  std::optional<std::string_view> episodes, quality;
};

struct UpstreamEvent {
  std::string_view kind;  // release_changed, episode_published, schedule_item, title_update, ...
  std::int64_t title_id = 0;
  std::string_view generation;  // the API generation the payload is shaped like: v1 | v3
  std::string_view api;         // how it reached us: v1 (poll) | v3 (WebSocket) | replay
  std::string_view endpoint;
  std::optional<Title> title;
  std::optional<EpisodeRef> episode;
  std::optional<Encode> encode;
  std::optional<Torrent> torrent;
  std::optional<double> next_episode;
  /// kind "reconcile": which pass of the reconciliation sweep asks (part of the content, so every
  /// pass's observation of a title is new, while a repeat within one pass is a duplicate).
  std::string_view sweep;
};

/// Serializes the event into out (replacing what it held, keeping its capacity) with its
/// content-derived id: sha256 over everything but event_id, observed_at and source, so the same
/// observation from a re-poll, a reconnect or a replay has the same id. Returns the id, a view
/// into out. observer, if given, is told of everything written (a schema check); the id it is told
/// of is a placeholder of the same shape (32 hex digits), replaced once the content is hashed.
std::string_view serialize_event(const UpstreamEvent& e, std::string_view observed_at, std::string& out,
                                 json::WriteObserver* observer = nullptr);
/// The id within what serialize_event wrote (it is always the first field).
inline std::string_view event_id_of(std::string_view serialized) { return serialized.substr(13, 32); }

}  // namespace anipipe::upstream
