#include "json/simple_pattern.hpp"

#include <limits>

namespace anipipe::json {
namespace {

constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();
constexpr std::string_view kMeta = "\\.^$|?*+()[]{}";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal count at s[i]; nullopt if there is none.
std::optional<std::size_t> read_count(std::string_view s, std::size_t& i) {
  if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
  std::size_t n = 0;
  while (i < s.size() && is_digit(s[i])) {
    n = n * 10 + static_cast<std::size_t>(s[i++] - '0');
    if (n > 100'000) return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<SimplePattern> SimplePattern::compile(std::string_view src) {
  SimplePattern p;
  std::size_t i = 0;
  if (i < src.size() && src[i] == '^') {
    p.anchored_start_ = true;
    ++i;
  }
  while (i < src.size()) {
    const char c = src[i];
    if (c == '$' && i + 1 == src.size()) {
      p.anchored_end_ = true;
      break;
    }
    Atom atom;
    if (c == '[') {
      ++i;
      bool negate = false;
      if (i < src.size() && src[i] == '^') {
        negate = true;
        ++i;
      }
      bool first = true;
      while (i < src.size() && (src[i] != ']' || first)) {
        const auto lo = static_cast<unsigned char>(src[i]);
        if (lo == '\\' || lo == '[' || lo == ']') return std::nullopt;  // escapes, nested or empty classes
        first = false;
        if (i + 2 < src.size() && src[i + 1] == '-' && src[i + 2] != ']') {
          const auto hi = static_cast<unsigned char>(src[i + 2]);
          if (hi < lo || hi == '\\' || hi == '[') return std::nullopt;
          for (unsigned b = lo; b <= hi; ++b) atom.bytes.set(b);
          i += 3;
        } else {
          atom.bytes.set(lo);
          ++i;
        }
      }
      if (i >= src.size()) return std::nullopt;  // unterminated
      ++i;                                       // ]
      if (negate) atom.bytes.flip();
    } else if (kMeta.find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      atom.bytes.set(static_cast<unsigned char>(c));
      ++i;
    }
    if (i < src.size()) {
      const char q = src[i];
      if (q == '*' || q == '+' || q == '?') {
        atom.min = q == '+' ? 1 : 0;
        atom.max = q == '?' ? 1 : kUnbounded;
        ++i;
      } else if (q == '{') {
        ++i;
        const auto n = read_count(src, i);
        if (!n) return std::nullopt;
        atom.min = atom.max = *n;
        if (i < src.size() && src[i] == ',') {
          ++i;
          atom.max = kUnbounded;
          if (auto m = read_count(src, i)) atom.max = *m;
          if (atom.max < atom.min) return std::nullopt;
        }
        if (i >= src.size() || src[i] != '}') return std::nullopt;
        ++i;
      }
      // A lazy or doubled quantifier (a+?, a**) is beyond this shape.
      if (i < src.size() && (src[i] == '?' || src[i] == '*' || src[i] == '+' || src[i] == '{')) return std::nullopt;
    }
    p.atoms_.push_back(atom);
  }
  return p;
}

bool SimplePattern::match_from(std::size_t a, std::string_view s, std::size_t pos) const {
  if (a == atoms_.size()) return !anchored_end_ || pos == s.size();
  const Atom& atom = atoms_[a];
  // Greedy: take as many as allowed, then give back one at a time (the same first match as
  // ECMAScript backtracking; for a yes/no answer any match would do).
  std::size_t n = 0;
  while (n < atom.max && pos + n < s.size() && atom.bytes.test(static_cast<unsigned char>(s[pos + n]))) ++n;
  if (n < atom.min) return false;
  for (std::size_t k = n + 1; k-- > atom.min;)
    if (match_from(a + 1, s, pos + k)) return true;
  return false;
}

bool SimplePattern::search(std::string_view s) const {
  if (anchored_start_) return match_from(0, s, 0);
  for (std::size_t start = 0; start <= s.size(); ++start)
    if (match_from(0, s, start)) return true;
  return false;
}

}  // namespace anipipe::json
