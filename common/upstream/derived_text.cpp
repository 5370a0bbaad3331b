#include "upstream/derived_text.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace anipipe::upstream::derived_text {
namespace {

/// Blocks that never move once allocated (views into them stay valid); rewound, not freed.
struct Arena {
  static constexpr std::size_t kBlock = 16 * 1024;
  std::vector<std::pair<std::unique_ptr<char[]>, std::size_t>> blocks;  // memory, size
  std::size_t current = 0, used = 0;

  char* take(std::size_t n) {
    while (current < blocks.size() && used + n > blocks[current].second) {
      ++current;
      used = 0;
    }
    if (current == blocks.size()) blocks.emplace_back(std::make_unique<char[]>(std::max(n, kBlock)), std::max(n, kBlock));
    char* p = blocks[current].first.get() + used;
    used += n;
    return p;
  }
};

thread_local Arena t_arena;

}  // namespace

std::string_view keep(std::string_view a, std::string_view b, std::string_view c) {
  const std::size_t n = a.size() + b.size() + c.size();
  if (n == 0) return {};
  char* p = t_arena.take(n);
  if (!a.empty()) std::memcpy(p, a.data(), a.size());
  if (!b.empty()) std::memcpy(p + a.size(), b.data(), b.size());
  if (!c.empty()) std::memcpy(p + a.size() + b.size(), c.data(), c.size());
  return {p, n};
}

void reset() {
  t_arena.current = 0;
  t_arena.used = 0;
}

}  // namespace anipipe::upstream::derived_text
