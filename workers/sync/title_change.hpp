#pragma once
// The heart of sync: what an observed title means against what the catalog knows.
//   unchanged  -> nothing is produced;
//   changed    -> the merged document goes to anilibria.titles, and every episode id the catalog
//                 did not have yet becomes one anilibria.new_episode (event id "<title>:<episode>",
//                 so a consumer can recognise a duplicate from an at-least-once path).
#include <string>
#include <string_view>
#include <vector>

#include "catalog/title_document.hpp"

namespace anipipe::sync {

struct TitleChange {
  bool changed = false;
  catalog::TitleDocument merged;
  std::string merged_json;                // canonical anilibria.titles value (when changed)
  std::vector<std::string> new_episodes;  // anilibria.new_episode values
};

/// known: the catalog's document (null: a title never seen). detected_at: RFC 3339.
/// announce=false: the catalog takes the change but no new_episode is made (a title that the
/// reconciliation sweep brings into the catalog for the first time: its history is not news).
TitleChange compare(const catalog::TitleDocument* known, const catalog::TitleDocument& observed, std::string_view detected_at,
                    bool announce = true);

/// Whether an observation that carries only part of a title (v1's releases/latest and schedule
/// items list only the latest episode) may hide what happened since the catalog's version - a
/// title never seen, an episode the catalog lacks (were there others before it?), a changed
/// episodes_total, a newer fresh_at, no episodes at all and a fresh_at not older than the
/// catalog's - so that sync fetches the full release before deciding.
/// Taking such a snapshot as the whole truth loses the first of two episodes uploaded between
/// two polls.
bool may_hide_changes(const catalog::TitleDocument* known, const catalog::TitleDocument& seen);

/// A full release as fetched, plus what a partial observation of it saw that the release lacks
/// (a listing that lags the feed): its episodes and a newer fresh_at.
catalog::TitleDocument with_observation(const catalog::TitleDocument& fetched, const catalog::TitleDocument& seen);

}  // namespace anipipe::sync
