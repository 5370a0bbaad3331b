#pragma once
// One change of a title in the catalog (anilibria.titles), as the back end hears of it: seed 003's
// `title_updated`, sent through the same webhook and published on Redis.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace anipipe::notify {

struct TitleUpdate {
  std::int64_t title_id = 0;
  std::string content_hash;  // of the document: tells this version from every other
  std::string title_ru;
  std::string alias;
  std::optional<std::string> updated_at;  // the upstream's, when it gave one
  std::string timestamp;                  // when the catalog changed (the record's time), RFC 3339

  /// From a value that passed anilibria.titles' schema; throws std::invalid_argument if a field it
  /// needs is missing anyway.
  static TitleUpdate parse(std::string_view json, std::string content_hash, std::int64_t timestamp_ms, simdjson::dom::parser& parser);
  /// "title_updated:<title id>:<content hash>": the same for every delivery of this version (the
  /// webhook's Idempotency-Key), another for the next version.
  std::string event_id() const;
};

/// anipipe's payload: {"type":"title_updated","event_id","title_id","data":{"title","alias",
/// "updated_at","content_hash"},"timestamp"}, published on Redis and the webhook body in
/// --webhook-format anipipe.
std::string title_updated_payload(const TitleUpdate& u);
/// Seed 003's body, its keys and no others: {"type":"title_updated","title_id","timestamp"}.
std::string seed001_title_updated(const TitleUpdate& u);

}  // namespace anipipe::notify
