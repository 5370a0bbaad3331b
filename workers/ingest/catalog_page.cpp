#include "catalog_page.hpp"

#include <simdjson.h>

namespace anipipe::ingest {

CatalogPage fetch_catalog_page(http::Client& client, int page, int limit, const std::string& sorting, const std::atomic<bool>* stop) {
  CatalogPage out;
  const std::string target = "/anime/catalog/releases?page=" + std::to_string(page) + "&limit=" + std::to_string(limit) +
                             "&f%5Bsorting%5D=" + sorting;
  http::Response res;
  try {
    res = client.get(target, stop);
  } catch (const http::HttpError& e) {
    out.error = e.what();
    return out;
  }
  if (res.status != 200) {
    out.error = "HTTP " + std::to_string(res.status);
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array data;
  if (auto err = parser.parse(res.body).get(root)) {
    out.error = std::string("the catalog's answer is not JSON: ") + simdjson::error_message(err);
    out.malformed_body = std::move(res.body);
    return out;
  }
  if (root["data"].get_array().get(data)) {
    out.error = "the catalog's answer is not {\"data\": [...]}";
    out.malformed_body = std::move(res.body);
    return out;
  }
  for (auto item : data) {
    CatalogItem c;
    c.json = simdjson::minify(item);
    if (item["id"].get_int64().get(c.id)) {
      // Ids as strings happen in the wild; the normalizer accepts both, and so does the walk.
      std::string_view text;
      if (!item["id"].get_string().get(text)) c.id = std::atoll(std::string(text).c_str());
    }
    c.freshness = HighWaterMark::freshness_of(item);
    out.items.push_back(std::move(c));
  }
  std::int64_t current = page, total = 0;
  simdjson::dom::element pagination;
  if (!root["meta"]["pagination"].get(pagination)) {
    if (pagination["current_page"].get_int64().get(current)) current = page;
    if (pagination["total_pages"].get_int64().get(total)) total = 0;
  }
  // Without pagination meta, a short page is the last one.
  out.last = out.items.empty() || (total > 0 ? current >= total : static_cast<int>(out.items.size()) < limit);
  out.ok = true;
  return out;
}

}  // namespace anipipe::ingest
