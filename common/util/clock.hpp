#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::util {

/// Now as RFC 3339 UTC with milliseconds, e.g. "2025-01-16T08:20:02.123Z".
std::string now_rfc3339();
std::string to_rfc3339(std::chrono::system_clock::time_point tp);
std::int64_t now_unix_ms();
/// True if s is an RFC 3339 date-time (JSON Schema's "date-time" format).
bool is_rfc3339(std::string_view s);
/// Parses RFC 3339 ("2025-01-16T08:17:44Z", "...44.123+03:00"); nullopt if it is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

}  // namespace anipipe::util
