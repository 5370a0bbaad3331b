#include "json/json_writer.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <simdjson.h>

namespace anipipe::json {

namespace {
// Whether any of the 8 bytes in w must be escaped (< 0x20, '"' or '\\'): the classic SWAR
// zero-byte test. It can flag a byte above a genuine hit, never miss one, so "none" is exact.
bool needs_escape(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  return (((w - ones * 0x20) & ~w & highs) | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) != 0;
}

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/// The index of the first byte of s that must be escaped, or s.size(). Titles and descriptions
/// rarely have one: 8 bytes at a time.
std::size_t first_to_escape(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (needs_escape(w)) break;
  }
  while (i < s.size() && !needs_escape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

/// The length of the valid UTF-8 sequence at s[i] (1 to 4), or 0 if there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t len;
  std::uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return len;
}

/// s with every byte that begins no valid UTF-8 sequence replaced by U+FFFD (as WHATWG decoders do).
std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    if (const auto len = utf8_sequence(s, i)) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  // JSON text is UTF-8 (RFC 8259 §8.1): a string that is not (a percent-decoded URL, bytes from a
  // client) is written with U+FFFD in place of each stray byte, never passed through. One SIMD
  // pass finds that nearly every string needs nothing.
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    const auto valid = to_valid_utf8(s);
    return append_quoted(out, valid);
  }
  static constexpr char hex[] = "0123456789abcdef";
  // Appends, not resize() and a copy: resize() zero-fills first, a second pass over every byte.
  const std::size_t clean = first_to_escape(s);
  out.push_back('"');
  out.append(s.data(), clean);
  if (clean == s.size()) {
    out.push_back('"');
    return;
  }
  for (std::size_t i = clean; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
    ++i;
    const std::size_t run = first_to_escape(s.substr(i));
    out.append(s.data() + i, run);
    i += run;
  }
  out.push_back('"');
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto len = utf8_sequence(s, i);
    if (!len) return false;
    i += len;
  }
  return true;
}

void Writer::open(char c) {
  separate();
  // Our documents nest a few levels; anything near this is a bug, not data.
  if (depth_ == 64) throw std::length_error("json::Writer: more than 64 nested containers");
  out_.push_back(c);
  empty_ |= std::uint64_t{1} << depth_++;
  if (observer_) c == '{' ? observer_->begin_object() : observer_->begin_array();
}

void Writer::close(char c) {
  out_.push_back(c);
  --depth_;
  if (observer_) observer_->end();
}

Writer& Writer::begin_object() {
  open('{');
  return *this;
}
Writer& Writer::end_object() {
  close('}');
  return *this;
}
Writer& Writer::begin_array() {
  open('[');
  return *this;
}
Writer& Writer::end_array() {
  close(']');
  return *this;
}

void Writer::literal_key(std::string_view k) {
  assert(first_to_escape(k) == k.size() && "a literal key that needs escaping: use key(std::string_view)");
  separate();
  // Built on the stack and appended at once: one capacity check instead of three.
  char buf[64];
  if (k.size() + 3 <= sizeof buf) {
    buf[0] = '"';
    std::memcpy(buf + 1, k.data(), k.size());
    buf[k.size() + 1] = '"';
    buf[k.size() + 2] = ':';
    out_.append(buf, k.size() + 3);
  } else {
    out_.push_back('"');
    out_.append(k);
    out_.append("\":");
  }
  after_key_ = true;
  if (observer_) observer_->key(k);
}

Writer& Writer::key(std::string_view k) {
  separate();
  append_quoted(out_, k);
  out_.push_back(':');
  after_key_ = true;
  if (observer_) observer_->key(k);
  return *this;
}

Writer& Writer::value(std::string_view s) {
  separate();
  append_quoted(out_, s);
  if (observer_) observer_->string(s);
  return *this;
}
Writer& Writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  if (observer_) observer_->boolean(b);
  return *this;
}
Writer& Writer::null() {
  separate();
  out_ += "null";
  if (observer_) observer_->null();
  return *this;
}
Writer& Writer::raw(std::string_view json) {
  separate();
  out_.append(json);
  if (observer_) observer_->raw();
  return *this;
}

template <class Integer>
Writer& Writer::integer(Integer n) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
  if (observer_) observer_->number(static_cast<double>(n), true);
  return *this;
}

Writer& Writer::value(std::int64_t n) { return integer(n); }
Writer& Writer::value(std::uint64_t n) { return integer(n); }

Writer& Writer::value(double d) {
  separate();
  // JSON has no NaN or infinity; null is the conventional stand-in.
  if (!std::isfinite(d)) {
    out_ += "null";
    if (observer_) observer_->null();
    return *this;
  }
  char buf[32];
  // Shortest round-trip form; but never a long run of integer digits: 2.1e20 written as
  // 213548027643871133696 is valid JSON that 64-bit parsers (simdjson among them) refuse.
  auto r = std::fabs(d) < 1e15 ? std::to_chars(buf, buf + sizeof buf, d)
                               : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  out_.append(buf, r.ptr);
  if (observer_) observer_->number(d, false);
  return *this;
}

}  // namespace anipipe::json
