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
  std::string merged_json;              // canonical anilibria.titles value (when changed)
  std::vector<std::string> new_episodes;  // anilibria.new_episode values
};

/// known: the catalog's document (null: a title never seen). detected_at: RFC 3339.
TitleChange compare(const catalog::TitleDocument* known, const catalog::TitleDocument& observed, std::string_view detected_at);

}  // namespace anipipe::sync
