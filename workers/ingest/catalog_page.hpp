#pragma once
// One page of the v1 API's catalog (GET /anime/catalog/releases?page=N&limit=L&f[sorting]=S ->
// {"data": [release...], "meta": {"pagination": {...}}}), the one endpoint that pages through every
// release: the poller's catch-up walks it newest first, the reconciliation sweep oldest first.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "high_water_mark.hpp"
#include "http/client.hpp"

namespace anipipe::ingest {

struct CatalogItem {
  std::string json;  // the release, minified, as the normalizer takes it
  std::int64_t id = 0;
  std::optional<HighWaterMark::Time> freshness;
};

struct CatalogPage {
  bool ok = false;
  std::string error;           // !ok: why
  std::string malformed_body;  // !ok because the answer was not the catalog's JSON: the body, for the DLQ
  std::vector<CatalogItem> items;
  bool last = true;  // no page after this one
};

/// sorting: FRESH_AT_DESC, FRESH_AT_ASC, ... (the API's f[sorting]). Never throws: a transport error,
/// a non-200 answer or a body that is not the catalog's shape is !ok with the reason.
CatalogPage fetch_catalog_page(http::Client& client, int page, int limit, const std::string& sorting, const std::atomic<bool>* stop);

}  // namespace anipipe::ingest
