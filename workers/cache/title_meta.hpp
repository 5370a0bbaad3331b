#pragma once
// cache's bookkeeping per title (keys::meta): where the version applied came from (partition and
// offset) and what its index entries were built from (alias, status, genres). The version guard
// reads it before every write; the rebuild's sweep reads it to tell a live key from a stale one.
// Stored as fields separated by ASCII unit separators (none occur in these fields' JSON-decoded
// text in practice; a genre containing one would only split into two index entries). A tombstone
// keeps only partition and offset, for a week, so an older write arriving late cannot resurrect it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/client.hpp"

namespace anipipe::cache {

struct TitleMeta {
  std::string partition, alias, status;
  std::int64_t offset = -1;
  std::vector<std::string> genres;
  bool tombstone = false;

  /// nullopt: no bookkeeping (nil, or not in this form).
  static std::optional<TitleMeta> parse(const redis::Reply& r);
  static std::string live(std::int32_t partition, std::int64_t offset, std::string_view alias, std::string_view status,
                          const std::vector<std::string>& genres);
  static std::string dead(std::int32_t partition, std::int64_t offset);
};

}  // namespace anipipe::cache
