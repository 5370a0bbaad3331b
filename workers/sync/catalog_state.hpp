#pragma once
// sync's state: the latest title document of every title in the partitions this instance owns,
// rebuilt from the compacted anilibria.titles when partitions are assigned and dropped when they
// are revoked. Nothing else stores it (docs/design.md, "State is a changelog").
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>

#include "catalog/title_document.hpp"

namespace anipipe::sync {

class CatalogState {
public:
  /// A record of anilibria.titles: a document, or a tombstone (nullopt) removing the title.
  void apply(std::int32_t partition, std::int64_t title_id, const std::optional<catalog::TitleDocument>& doc);
  void drop_partition(std::int32_t partition);
  const catalog::TitleDocument* find(std::int64_t title_id) const;
  std::size_t size() const { return titles_.size(); }

private:
  struct Entry {
    std::int32_t partition;
    catalog::TitleDocument doc;
  };
  std::unordered_map<std::int64_t, Entry> titles_;
};

}  // namespace anipipe::sync
