#include "http/query.hpp"

#include <algorithm>
#include <charconv>

namespace anipipe::http {

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  auto decode = [](std::string_view s) -> std::optional<std::string> {
    std::string r;
    r.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        r.push_back(' ');
      } else if (s[i] == '%') {
        if (i + 2 >= s.size()) return std::nullopt;
        unsigned v = 0;
        auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc{} || p != s.data() + i + 3) return std::nullopt;
        r.push_back(static_cast<char>(v));
        i += 2;
      } else {
        r.push_back(s[i]);
      }
    }
    return r;
  };
  for (std::size_t i = 0; i < query.size();) {
    const auto amp = std::min(query.find('&', i), query.size());
    const auto pair = query.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto k = decode(pair.substr(0, eq));
    auto v = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!k || !v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

}  // namespace anipipe::http
