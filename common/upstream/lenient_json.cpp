#include "upstream/lenient_json.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace lenient {

using simdjson::ondemand::json_type;

namespace {
thread_local bool t_broken = false;
}  // namespace

bool ok(simdjson::error_code e) {
  if (!e) return true;
  if (e != simdjson::NO_SUCH_FIELD && e != simdjson::INCORRECT_TYPE) t_broken = true;
  return false;
}
bool broken() { return t_broken; }
void reset() { t_broken = false; }

std::optional<object> as_object(value v) {
  json_type t{};
  if (t_broken || !ok(v.type().get(t)) || t != json_type::object) return std::nullopt;
  object o;
  if (!ok(v.get_object().get(o))) return std::nullopt;
  return o;
}

std::optional<simdjson::ondemand::array> as_array(value v) {
  json_type t{};
  if (t_broken || !ok(v.type().get(t)) || t != json_type::array) return std::nullopt;
  simdjson::ondemand::array a;
  if (!ok(v.get_array().get(a))) return std::nullopt;
  return a;
}

std::optional<value> field(object& obj, std::string_view key) {
  value v;
  if (t_broken || !ok(obj.find_field_unordered(key).get(v))) return std::nullopt;
  json_type t{};
  if (!ok(v.type().get(t)) || t == json_type::null) return std::nullopt;
  return v;
}

std::optional<object> object_field(object& obj, std::string_view key) {
  auto v = field(obj, key);
  return v ? as_object(*v) : std::nullopt;
}

std::optional<std::string_view> as_string(value v) {
  std::string_view s;
  json_type t{};
  if (t_broken || !ok(v.type().get(t)) || t != json_type::string || !ok(v.get_string().get(s))) return std::nullopt;
  return s;
}

std::optional<double> as_number(value v) {
  json_type t{};
  if (t_broken || !ok(v.type().get(t))) return std::nullopt;
  if (t == json_type::number) {
    double d;
    if (!ok(v.get_double().get(d)) || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  if (t == json_type::string) {
    std::string_view s;
    if (!ok(v.get_string().get(s))) return std::nullopt;
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
  json_type t{};
  if (!ok(v->type().get(t))) return std::nullopt;
  if (t == json_type::boolean) {
    bool b;
    if (!ok(v->get_bool().get(b))) return std::nullopt;
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

}  // namespace lenient
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
