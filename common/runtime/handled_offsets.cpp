#include "runtime/handled_offsets.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace anipipe::runtime {

namespace {
constexpr std::string_view kTag = "pw1:";

bool read_number(std::string_view& s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}
}  // namespace

void HandledOffsets::add(std::int64_t first, std::int64_t last) {
  if (last < next_) return;
  first = std::max(first, next_);
  auto it = ahead_.upper_bound(first);
  if (it != ahead_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= first - 1) {
      first = prev->first;
      last = std::max(last, prev->second);
      it = prev;
    }
  }
  while (it != ahead_.end() && it->first <= last + 1) {
    last = std::max(last, it->second);
    it = ahead_.erase(it);
  }
  // Every range left is above last + 1: one that starts at next_ joins the prefix.
  if (first == next_) next_ = last + 1;
  else ahead_.emplace(first, last);
}

bool HandledOffsets::contains(std::int64_t offset) const {
  if (offset < next_) return true;
  auto it = ahead_.upper_bound(offset);
  return it != ahead_.begin() && std::prev(it)->second >= offset;
}

std::string HandledOffsets::metadata() const {
  if (ahead_.empty()) return {};
  std::string out(kTag);
  std::int64_t cursor = next_;
  for (const auto& [first, last] : ahead_) {
    if (cursor != next_) out += ',';
    out += std::to_string(first - cursor);
    out += '+';
    out += std::to_string(last - first + 1);
    cursor = last + 1;
  }
  return out;
}

std::optional<std::map<std::int64_t, std::int64_t>> HandledOffsets::parse(std::int64_t next, std::string_view s) {
  std::map<std::int64_t, std::int64_t> ranges;
  std::int64_t cursor = next;
  while (!s.empty()) {
    std::int64_t gap = 0, length = 0;
    if (!read_number(s, gap) || s.empty() || s.front() != '+') return std::nullopt;
    s.remove_prefix(1);
    if (!read_number(s, length) || gap < 1 || length < 1) return std::nullopt;
    if (!s.empty()) {
      if (s.front() != ',' || s.size() == 1) return std::nullopt;
      s.remove_prefix(1);
    }
    const auto first = cursor + gap;
    ranges.emplace(first, first + length - 1);
    cursor = first + length;
  }
  return ranges;
}

HandledOffsets HandledOffsets::restore(std::int64_t next, std::string_view metadata) {
  HandledOffsets h(next);
  if (!metadata.starts_with(kTag)) return h;
  metadata.remove_prefix(kTag.size());
  if (auto ranges = parse(next, metadata)) h.ahead_ = std::move(*ranges);
  return h;
}

}  // namespace anipipe::runtime
