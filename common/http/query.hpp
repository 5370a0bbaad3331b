#pragma once
// Query strings of the HTTP servers (the edge, the ops page).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anipipe::http {

/// Query string pairs, percent-decoded ('+' is a space); nullopt on a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace anipipe::http
