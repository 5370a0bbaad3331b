#include "lenient_json.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace anipipe::ingest::lenient {

using simdjson::ondemand::json_type;

std::optional<value> field(object& obj, std::string_view key) {
  value v;
  if (obj.find_field_unordered(key).get(v)) return std::nullopt;
  bool is_null = false;
  if (!v.is_null().get(is_null) && is_null) return std::nullopt;
  return v;
}

std::optional<object> object_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  if (!v) return std::nullopt;
  json_type t;
  if (v->type().get(t) || t != json_type::object) return std::nullopt;
  object o;
  if (v->get_object().get(o)) return std::nullopt;
  return o;
}

std::optional<std::string_view> as_string(value v) {
  std::string_view s;
  json_type t;
  if (v.type().get(t) || t != json_type::string || v.get_string().get(s)) return std::nullopt;
  return s;
}

std::optional<double> as_number(value v) {
  json_type t;
  if (v.type().get(t)) return std::nullopt;
  if (t == json_type::number) {
    double d;
    if (v.get_double().get(d) || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  if (t == json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return std::nullopt;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.empty()) return std::nullopt;
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::optional<std::int64_t> as_int(value v) {
  auto d = as_number(v);
  if (!d || std::floor(*d) != *d || std::fabs(*d) > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(*d);
}

std::optional<std::string_view> string_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  return v ? as_string(*v) : std::nullopt;
}

std::optional<std::int64_t> int_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  return v ? as_int(*v) : std::nullopt;
}

std::optional<double> number_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  return v ? as_number(*v) : std::nullopt;
}

std::optional<bool> bool_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  if (!v) return std::nullopt;
  json_type t;
  if (v->type().get(t)) return std::nullopt;
  if (t == json_type::boolean) {
    bool b;
    if (v->get_bool().get(b)) return std::nullopt;
    return b;
  }
  if (t == json_type::number) {
    auto n = as_int(*v);
    if (n && (*n == 0 || *n == 1)) return *n == 1;
    return std::nullopt;
  }
  if (auto s = as_string(*v)) {
    if (*s == "true" || *s == "1") return true;
    if (*s == "false" || *s == "0") return false;
  }
  return std::nullopt;
}

}  // namespace anipipe::ingest::lenient
