#include "catalog_state.hpp"

namespace anipipe::sync {

void CatalogState::apply(std::int32_t partition, std::int64_t title_id, const std::optional<catalog::TitleDocument>& doc) {
  if (!doc) {
    titles_.erase(title_id);
    return;
  }
  titles_.insert_or_assign(title_id, Entry{partition, *doc});
}

void CatalogState::drop_partition(std::int32_t partition) {
  for (auto it = titles_.begin(); it != titles_.end();) it = it->second.partition == partition ? titles_.erase(it) : std::next(it);
}

const catalog::TitleDocument* CatalogState::find(std::int64_t title_id) const {
  auto it = titles_.find(title_id);
  return it == titles_.end() ? nullptr : &it->second.doc;
}

}  // namespace anipipe::sync
