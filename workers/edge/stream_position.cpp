#include "stream_position.hpp"

#include <charconv>
#include <cstdio>

namespace anipipe::edge {

std::string to_string(const StreamPosition& p) {
  char out[64];
  std::snprintf(out, sizeof out, "e%08x-p%d-o%lld", p.epoch, p.partition, static_cast<long long>(p.offset));
  return out;
}

namespace {

/// Reads "<tag><number>" from the front of text, in base; advances text past it.
template <class T>
bool take(std::string_view& text, char tag, T& value, int base = 10) {
  if (text.empty() || text.front() != tag) return false;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data() + 1, end, value, base);
  if (ec != std::errc() || ptr == text.data() + 1) return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
  return true;
}

}  // namespace

std::optional<StreamPosition> parse_position(std::string_view text) {
  StreamPosition p;
  if (text.size() < 9 || text[0] != 'e') return std::nullopt;
  if (!take(text, 'e', p.epoch, 16) || text.empty() || text.front() != '-') return std::nullopt;
  text.remove_prefix(1);
  if (!take(text, 'p', p.partition) || p.partition < 0 || text.empty() || text.front() != '-') return std::nullopt;
  text.remove_prefix(1);
  if (!take(text, 'o', p.offset) || p.offset < -1 || !text.empty()) return std::nullopt;
  return p;
}

std::uint32_t epoch_of(std::string_view cluster_id, std::string_view topic) {
  std::uint32_t h = 2166136261u;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
  };
  mix(cluster_id);
  mix("/");
  mix(topic);
  return h == 0 ? 1 : h;  // 0 is never an epoch: "e00000000" is nobody's
}

}  // namespace anipipe::edge
