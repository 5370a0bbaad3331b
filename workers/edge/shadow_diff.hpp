#pragma once
// Two JSON answers to one request, compared field by field, with the rules of what may differ
// between the edge and the legacy back end (docs/migration.md):
//  - a path names a field by its keys joined with '.', "[]" standing for every element of a list:
//    "data.genres", "data.episodes[].updatedAt", "data[].names.ru"; a top-level key is its name;
//  - ignore: fields allowed to differ, or to exist on one side only (listed explicitly);
//  - unordered: lists compared as multisets (each element matched with an equal one, under these
//    same rules, wherever it stands);
//  - timestamps: a field whose name (or path) is listed, or two strings that both look like
//    ISO-8601 date-times, are equal within the tolerance; listed numeric fields are Unix seconds
//    (below 10^11) or milliseconds.
// Differences are reported by normalized path (list indices collapsed to "[]"), so the field
// labels of a metric stay few however long the lists.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anipipe::edge {

struct DiffRules {
  std::vector<std::string> ignore, unordered, timestamps;
  std::chrono::milliseconds tolerance{0};
};

struct FieldDifference {
  std::string field;         // normalized path; "" for the whole body
  std::string edge, legacy;  // compact JSON (cut at 120 bytes), "(absent)" when missing
};

struct Comparison {
  std::vector<FieldDifference> differences;  // at most max_differences
  std::string error;                         // not empty: a body is not JSON
};

Comparison compare_json(std::string_view edge, std::string_view legacy, const DiffRules& rules, std::size_t max_differences = 20);

/// Milliseconds since the epoch of an ISO-8601 date-time ("2025-01-02T08:00:00.250+03:00"); nullopt otherwise.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace anipipe::edge
