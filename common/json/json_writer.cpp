#include "json/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace anipipe::json {

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
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
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    int len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

void Writer::separate() {
  if (after_key_) { after_key_ = false; return; }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::begin_object() { separate(); out_.push_back('{'); first_.push_back(true); return *this; }
Writer& Writer::end_object() { out_.push_back('}'); first_.pop_back(); return *this; }
Writer& Writer::begin_array() { separate(); out_.push_back('['); first_.push_back(true); return *this; }
Writer& Writer::end_array() { out_.push_back(']'); first_.pop_back(); return *this; }

Writer& Writer::key(std::string_view k) {
  separate();
  append_quoted(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

Writer& Writer::value(std::string_view s) { separate(); append_quoted(out_, s); return *this; }
Writer& Writer::value(bool b) { separate(); out_ += b ? "true" : "false"; return *this; }
Writer& Writer::null() { separate(); out_ += "null"; return *this; }
Writer& Writer::raw(std::string_view json) { separate(); out_.append(json); return *this; }

Writer& Writer::value(std::int64_t n) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(std::uint64_t n) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(double d) {
  separate();
  // JSON has no NaN or infinity; null is the conventional stand-in.
  if (!std::isfinite(d)) { out_ += "null"; return *this; }
  char buf[32];
  // Shortest round-trip form; but never a long run of integer digits: 2.1e20 written as
  // 213548027643871133696 is valid JSON that 64-bit parsers (simdjson among them) refuse.
  auto r = std::fabs(d) < 1e15 ? std::to_chars(buf, buf + sizeof buf, d)
                               : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  out_.append(buf, r.ptr);
  return *this;
}

}  // namespace anipipe::json
