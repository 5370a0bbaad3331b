#pragma once
// A JSON Schema "pattern" of the shape our contracts use - an optional ^, literal characters and
// [classes] (ranges, ^ negation), each with an optional {n}, {n,m}, {n,}, +, * or ?, and an
// optional $ - matched by hand with the same (byte-wise, ECMAScript) meaning as std::regex_search.
// std::regex took a third of ingest's time for the one ^[0-9a-f]{32}$ of each event; anything
// outside this shape (groups, alternation, escapes, .) is left to std::regex.
#include <bitset>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace anipipe::json {

class SimplePattern {
public:
  /// nullopt if the pattern is not of the shape above.
  static std::optional<SimplePattern> compile(std::string_view source);
  /// Whether the pattern matches somewhere in s (anchors honoured), like std::regex_search.
  bool search(std::string_view s) const;

private:
  struct Atom {
    std::bitset<256> bytes;
    std::size_t min = 1, max = 1;
  };
  bool match_from(std::size_t atom, std::string_view s, std::size_t pos) const;

  std::vector<Atom> atoms_;
  bool anchored_start_ = false, anchored_end_ = false;
};

}  // namespace anipipe::json
