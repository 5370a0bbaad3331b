// libFuzzer target over ingest's normalizer: any bytes in, and
//  - no crash, leak or undefined behaviour (ASan+UBSan),
//  - every event it emits is valid against schemas/anilibria.upstream.events.schema.json,
//  - the same input twice gives the same event id,
//  - the contract check that follows the writer (json::SchemaCheck) agrees with the validator: a
//    normalizer with the contract emits exactly the events that are valid, and rejects the rest.
// Built and run by scripts/fuzz-ingest.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "json/schema.hpp"
#include "upstream/normalizer.hpp"

namespace {
const anipipe::json::SchemaRegistry& schemas() {
  static const auto reg = anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir());
  return reg;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static anipipe::upstream::Normalizer normalizer;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto a = normalizer.normalize_copy(text, "v1", "/fuzz", "2025-01-16T08:20:00Z");
  if (a.status != anipipe::upstream::Normalized::Status::event) return 0;
  const auto err = schemas().validate("anilibria.upstream.events", a.json);
  static anipipe::upstream::Normalizer checked(&schemas());
  const auto c = checked.normalize_copy(text, "v1", "/fuzz", "2025-01-16T08:20:00Z");
  const bool check_accepts = c.status == anipipe::upstream::Normalized::Status::event;
  if (check_accepts != !err || (check_accepts && c.json != a.json)) {
    std::fprintf(stderr, "the check disagrees with the validator (%s): %s\n%s\n", err ? err->to_string().c_str() : "valid",
                 c.reason.c_str(), a.json.c_str());
    std::abort();
  }
  if (err) {
    std::fprintf(stderr, "invalid event %s\n%s\n", err->to_string().c_str(), a.json.c_str());
    std::abort();
  }
  auto b = normalizer.normalize_copy(text, "replay", "", "2030-01-01T00:00:00Z");
  if (b.event_id() != a.event_id()) {
    std::fprintf(stderr, "event id not stable: %s vs %s\n", std::string(a.event_id()).c_str(), std::string(b.event_id()).c_str());
    std::abort();
  }
  return 0;
}
