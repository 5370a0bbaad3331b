#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace anipipe::util {

/// Now as RFC 3339 UTC with milliseconds, e.g. "2025-01-16T08:20:02.123Z".
std::string now_rfc3339();
std::string to_rfc3339(std::chrono::system_clock::time_point tp);
std::int64_t now_unix_ms();

}  // namespace anipipe::util
