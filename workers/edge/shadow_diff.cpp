#include "shadow_diff.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace anipipe::edge {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::string_view kAbsent = "(absent)";

std::string compact(const element& e) {
  auto text = simdjson::minify(e);
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

bool listed(const std::vector<std::string>& list, std::string_view path) { return std::find(list.begin(), list.end(), path) != list.end(); }

std::string child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

bool is_number(const element& e) {
  const auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double number(const element& e) {
  switch (e.type()) {
    case element_type::INT64: return static_cast<double>(std::int64_t(e));
    case element_type::UINT64: return static_cast<double>(std::uint64_t(e));
    default: return double(e);
  }
}

class Differ {
public:
  Differ(const DiffRules& rules, std::size_t max) : rules_(rules), max_(max) {}

  /// Differences found so far are kept in out_; true if a and b are equal under the rules.
  bool compare(const element& a, const element& b, const std::string& path, std::string_view name) {
    if (listed(rules_.ignore, path)) return true;
    if (timestamp_equal(a, b, path, name)) return true;
    if (is_number(a) && is_number(b)) return number(a) == number(b) || differ(path, compact(a), compact(b));
    if (a.type() != b.type()) return differ(path, compact(a), compact(b));
    switch (a.type()) {
      case element_type::OBJECT: return objects(a.get_object().value(), b.get_object().value(), path);
      case element_type::ARRAY:
        return listed(rules_.unordered, path) ? multiset(a.get_array().value(), b.get_array().value(), path)
                                              : arrays(a.get_array().value(), b.get_array().value(), path);
      default: return compact(a) == compact(b) || differ(path, compact(a), compact(b));
    }
  }

  std::vector<FieldDifference> take() { return std::move(out_); }

private:
  bool differ(const std::string& path, std::string edge, std::string legacy) {
    // The same field once per comparison: a list of 100 elements is one difference, not 100.
    if (out_.size() < max_ && std::none_of(out_.begin(), out_.end(), [&](const auto& d) { return d.field == path; }))
      out_.push_back({path, std::move(edge), std::move(legacy)});
    return false;
  }

  bool timestamp_equal(const element& a, const element& b, const std::string& path, std::string_view name) {
    const bool named = listed(rules_.timestamps, name) || listed(rules_.timestamps, path);
    std::string_view sa, sb;
    if (!a.get(sa) && !b.get(sb)) {
      const auto ta = parse_iso8601_ms(sa), tb = parse_iso8601_ms(sb);
      return ta && tb && std::llabs(*ta - *tb) <= rules_.tolerance.count();
    }
    if (!named || !is_number(a) || !is_number(b)) return false;
    auto ms = [](double v) { return v < 1e11 ? v * 1000 : v; };
    return std::fabs(ms(number(a)) - ms(number(b))) <= static_cast<double>(rules_.tolerance.count());
  }

  bool objects(simdjson::dom::object a, simdjson::dom::object b, const std::string& path) {
    bool equal = true;
    for (auto [key, value] : a) {
      const auto p = child(path, key);
      element other;
      if (b.at_key(key).get(other)) equal = (listed(rules_.ignore, p) || differ(p, compact(value), std::string(kAbsent))) && equal;
      else equal = compare(value, other, p, key) && equal;
    }
    for (auto [key, value] : b) {
      const auto p = child(path, key);
      element other;
      if (a.at_key(key).get(other)) equal = (listed(rules_.ignore, p) || differ(p, std::string(kAbsent), compact(value))) && equal;
    }
    return equal;
  }

  bool arrays(simdjson::dom::array a, simdjson::dom::array b, const std::string& path) {
    if (a.size() != b.size()) return differ(path, std::to_string(a.size()) + " elements", std::to_string(b.size()) + " elements");
    bool equal = true;
    auto ib = b.begin();
    for (auto ea : a) equal = compare(ea, *ib++, path + "[]", {}) && equal;
    return equal;
  }

  bool multiset(simdjson::dom::array a, simdjson::dom::array b, const std::string& path) {
    if (a.size() != b.size()) return differ(path, std::to_string(a.size()) + " elements", std::to_string(b.size()) + " elements");
    std::vector<element> left(b.begin(), b.end());
    for (auto ea : a) {
      // An equal element anywhere on the other side, judged by these rules without reporting.
      auto match = std::find_if(left.begin(), left.end(),
                                [&](const element& eb) { return Differ(rules_, 0).compare(ea, eb, path + "[]", {}); });
      if (match == left.end()) return differ(path, compact(ea), "(no equal element)");
      left.erase(match);
    }
    return true;
  }

  const DiffRules& rules_;
  std::size_t max_;
  std::vector<FieldDifference> out_;
};

bool digits(std::string_view s, std::size_t at, std::size_t n, int& value) {
  if (at + n > s.size()) return false;
  return std::from_chars(s.data() + at, s.data() + at + n, value).ptr == s.data() + at + n;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) || !digits(s, 14, 2, mi) ||
      !digits(s, 17, 2, sec))
    return std::nullopt;
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    std::int64_t scale = 100;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10) ms += (s[at] - '0') * scale;
  }
  std::int64_t offset_min = 0;
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!digits(s, at + 1, 2, oh) || at + 6 != s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, om)) return std::nullopt;
    offset_min = (s[at] == '+' ? 1 : -1) * (oh * 60 + om);
    at += 6;
  } else if (at < s.size() && s[at] == 'Z') {
    ++at;
  }
  if (at != s.size()) return std::nullopt;
  const auto days = std::chrono::sys_days(std::chrono::year(y) / mo / d).time_since_epoch().count();
  return ((static_cast<std::int64_t>(days) * 86'400 + h * 3'600 + mi * 60 + sec - offset_min * 60) * 1'000) + ms;
}

Comparison compare_json(std::string_view edge, std::string_view legacy, const DiffRules& rules, std::size_t max_differences) {
  simdjson::dom::parser pa, pb;
  element a, b;
  Comparison out;
  if (pa.parse(edge.data(), edge.size()).get(a)) out.error = "the edge's body is not JSON";
  else if (pb.parse(legacy.data(), legacy.size()).get(b)) out.error = "the legacy body is not JSON";
  if (!out.error.empty()) return out;
  Differ differ(rules, max_differences);
  differ.compare(a, b, "", {});
  out.differences = differ.take();
  return out;
}

}  // namespace anipipe::edge
