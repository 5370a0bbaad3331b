#pragma once
// The edge's L1 cache: every title of the compacted anilibria.titles in memory, ready to serve
// (docs/design.md, "Caches"). Each entry keeps its v2 JSON (verbatim from the topic), its v1 form (the
// old Node.js format) and an ETag, so a read is a lookup and a copy; lists filter and page over an
// order (newest update first) that is rebuilt only after the catalog changed.
//
// Thread-safe: many request threads read while the follower thread applies records.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/title_document.hpp"

namespace anipipe::edge {

struct CatalogEntry {
  catalog::TitleDocument doc;
  std::string v2_json;
  std::string v1_json;
  std::string etag;         // quoted, strong: a hash of v2_json
  std::string search_text;  // the names, case-folded, for q=
};

struct TitleQuery {
  std::size_t page = 1;  // 1-based
  std::size_t limit = 20;
  std::optional<std::string> genre, season, status, q;
  std::optional<std::int64_t> year;
};

struct TitlePage {
  std::vector<std::shared_ptr<const CatalogEntry>> items;
  std::size_t total = 0;  // matches over all pages
};

class TitleCatalog {
public:
  /// A record of anilibria.titles: a document upserts, a tombstone (nullopt) removes. Throws
  /// std::invalid_argument for a value that is not a title document.
  void apply(std::int64_t id, std::optional<std::string_view> value);
  std::shared_ptr<const CatalogEntry> find(std::int64_t id) const;
  /// find(), waiting up to `timeout` for the title to arrive (a title synced on a read's behalf
  /// lands in the catalog a moment after sync's reply).
  std::shared_ptr<const CatalogEntry> wait_for(std::int64_t id, std::chrono::milliseconds timeout) const;
  TitlePage list(const TitleQuery& query) const;
  std::size_t size() const;

private:
  void rebuild_order_locked() const;

  mutable std::shared_mutex mutex_;
  mutable std::condition_variable_any arrived_;  // notified by every upsert
  std::unordered_map<std::int64_t, std::shared_ptr<const CatalogEntry>> by_id_;
  mutable std::vector<std::shared_ptr<const CatalogEntry>> ordered_;  // newest update first, then id
  mutable bool order_stale_ = false;
};

/// A strong ETag (quoted) for a response body: FNV-1a 64 of its bytes.
std::string strong_etag(std::string_view body);

/// Lower case for ASCII and Russian Cyrillic (А–Я, Ё) in UTF-8; other bytes unchanged. Enough for
/// matching names the way a search box user expects, without a locale.
std::string fold_case(std::string_view s);

}  // namespace anipipe::edge
