#pragma once
// The one JSON writer: appends compact JSON to a std::string with correct escaping.
// Callers drive the structure (begin/end, key, value); commas are tracked here so
// output is always well-formed if calls are balanced.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::json {

/// Told of every value a Writer writes, in document order, as it writes it: lets a schema check
/// (SchemaCheck) run alongside the writing instead of parsing the written text again.
class WriteObserver {
public:
  virtual ~WriteObserver() = default;
  virtual void begin_object() = 0;
  virtual void begin_array() = 0;
  virtual void end() = 0;  // of the innermost open object or array
  virtual void key(std::string_view k) = 0;
  virtual void string(std::string_view s) = 0;  // the value, unescaped
  /// integer: written as an integer (value(int64/uint64)) rather than a double.
  virtual void number(double d, bool integer) = 0;
  virtual void boolean(bool b) = 0;
  virtual void null() = 0;
  /// Already-serialized JSON the observer cannot see into.
  virtual void raw() = 0;
};

class Writer {
public:
  explicit Writer(std::string& out, WriteObserver* observer = nullptr) : out_(out), observer_(observer) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  /// A key written in the source: appended as it is, without looking for characters to escape
  /// (our literal keys have none; debug builds check). Most keys are these, once per record field.
  template <std::size_t N>
  Writer& key(const char (&k)[N]) {
    static_assert(N > 0);
    literal_key(std::string_view(k, N - 1));
    return *this;
  }

  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(bool b);
  Writer& value(std::int64_t n);
  Writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  Writer& value(std::uint64_t n);
  Writer& value(double d);
  Writer& null();
  /// Inserts already-serialized JSON verbatim (the caller vouches for its validity).
  Writer& raw(std::string_view json);

  template <class T>
  Writer& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }
  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  template <std::size_t N, class T>
  Writer& field(const char (&k)[N], const T& v) {
    key(k);
    return value(v);
  }

private:
  template <class Integer>
  Writer& integer(Integer n);
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (depth_ > 0) {
      const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
      if (!(empty_ & bit)) out_.push_back(',');
      empty_ &= ~bit;
    }
  }
  void open(char c);
  void close(char c);
  void literal_key(std::string_view k);

  std::string& out_;
  WriteObserver* const observer_;
  // One bit per open container (bit d-1 for depth d): has it received no element yet? A bitmask
  // rather than a vector, so a Writer costs no allocation (one is made per record written).
  std::uint64_t empty_ = 0;
  unsigned depth_ = 0;
  bool after_key_ = false;
};

/// Appends s as a quoted, escaped JSON string.
void append_quoted(std::string& out, std::string_view s);

/// True if s is well-formed UTF-8 (JSON text must be).
bool is_valid_utf8(std::string_view s);

}  // namespace anipipe::json
