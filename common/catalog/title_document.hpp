#pragma once
// A title document as anilibria.titles carries it (schemas/anilibria.titles.schema.json): the
// owning form of the title model (title_model.hpp) that sync, notify and the edge keep.
// Serialization is canonical (fixed field order, episodes sorted by ordinal then id), so two
// documents with the same content have the same bytes and "unchanged" is a string comparison.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/title_model.hpp"

namespace simdjson::dom {
class element;
}

namespace anipipe::catalog {

using Episode = BasicEpisode<std::string>;

/// The owning title, with what a kept document adds: where it was last observed from.
struct TitleDocument : BasicTitle<std::string> {
  std::string source = "v1";
  bool operator==(const TitleDocument&) const = default;

  /// Parses a document (the JSON of a titles record, or an event's "title"); throws
  /// std::invalid_argument naming what is wrong. Callers validate against the schema first.
  static TitleDocument parse(std::string_view json);
  /// The same from an already parsed document (e.g. an event's "title"), without parsing again.
  static TitleDocument parse(const simdjson::dom::element& root);
  /// Canonical JSON.
  std::string to_json() const;
  const Episode* find_episode(std::string_view episode_id) const;
  const Episode* find_ordinal(double ordinal) const;
  /// The highest ordinal, if any episode.
  std::optional<double> last_ordinal() const;
};

/// The largest title id: 2^53 - 1, the largest integer every JSON reader (JavaScript's included)
/// holds exactly. The schemas say the same (maximum).
inline constexpr std::int64_t kMaxTitleId = 9007199254740991;

/// A title id as records are keyed by it (anilibria.titles, anilibria.new_episode, ...) and as URLs
/// name it: a positive decimal integer up to kMaxTitleId in its canonical form (no sign, no
/// leading zero: "01" is not title 1) and nothing else; nullopt otherwise.
std::optional<std::int64_t> parse_title_id(std::string_view text);

/// What an observation adds to what is known: the incoming document's fields win; episodes are
/// the union by ordinal (an episode is one per (title, ordinal): the incoming upload of an ordinal
/// replaces the known one, so a re-upload under a new id is an update, not a second episode),
/// because upstream snapshots often carry only the latest episode (v1 releases/latest) while the
/// catalog keeps them all. Within one document, of two uploads of an ordinal the newer
/// (updated_at) stands. Episodes are never dropped: one the upstream no longer lists stays, so a
/// listing that flickers cannot announce an episode twice.
TitleDocument merge(const TitleDocument& known, const TitleDocument& incoming);

/// Episodes of `after` whose ordinal `before` does not have (before may be null: everything is new).
std::vector<const Episode*> new_episodes(const TitleDocument* before, const TitleDocument& after);

}  // namespace anipipe::catalog
