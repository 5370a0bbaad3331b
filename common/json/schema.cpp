#include "json/schema.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "json/json_writer.hpp"
#include "json/schema_node.hpp"
#include "json/simple_pattern.hpp"
#include "util/clock.hpp"

namespace anipipe::json {
namespace {

unsigned type_bit(std::string_view name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBoolean;
  if (name == "integer") return kInteger;
  if (name == "number") return kNumber;
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  return 0;
}

bool is_integral(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  if (e.type() == T::INT64 || e.type() == T::UINT64) return true;
  if (e.type() == T::DOUBLE) {
    double d = double(e);
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

double as_double(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  if (e.type() == T::INT64) return double(int64_t(e));
  if (e.type() == T::UINT64) return double(uint64_t(e));
  return double(e);
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Canonical text of a value, for enum/const comparison: numbers by value, the rest minified.
std::string canonical(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  if (e.type() == T::INT64 || e.type() == T::UINT64 || e.type() == T::DOUBLE) {
    return number_text(as_double(e));
  }
  return simdjson::minify(e);
}

const SimplePattern& uuid_pattern() {
  static const SimplePattern p = *SimplePattern::compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  return p;
}

/// The instance path as a chain on the stack: built into a string only when validation fails,
/// because the success path runs for every record a worker produces.
struct PathSeg {
  const PathSeg* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

std::string path_string(const PathSeg* p) {
  std::vector<const PathSeg*> chain;
  for (; p; p = p->parent) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    out += "/" + ((*it)->is_index ? std::to_string((*it)->index) : escape_pointer_token((*it)->key));
  return out;
}

}  // namespace

std::string escape_pointer_token(std::string_view t) {
  std::string out;
  for (char c : t) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string ValidationError::to_string() const {
  return (instance_path.empty() ? std::string("at the root") : "at " + instance_path) + ": " + message;
}

void SchemaNode::finish() {
  for (const auto& name : required) {
    std::size_t i = 0;
    while (i < properties.size() && properties[i].first != name) ++i;
    if (i < properties.size() && i < 64) required_bits |= std::uint64_t{1} << i;
    else required_elsewhere.push_back(name);
  }
  if (format == "date-time") format_kind = Format::date_time;
  else if (format == "uuid") format_kind = Format::uuid;
}

std::string number_text(double d) {
  std::string out;
  Writer(out).value(d);
  return out;
}

std::optional<std::string> SchemaNode::type_error(unsigned actual, bool integral, bool integer_text) const {
  if (!types) return std::nullopt;
  const bool ok = (types & actual) || (actual == kNumber && integral && (types & kInteger));
  if (ok) return std::nullopt;
  std::string want;
  for (auto [bit, name] : {std::pair{kNull, "null"},
                           {kBoolean, "boolean"},
                           {kInteger, "integer"},
                           {kNumber, "number"},
                           {kString, "string"},
                           {kArray, "array"},
                           {kObject, "object"}}) {
    if (types & bit) want += (want.empty() ? "" : " or ") + std::string(name);
  }
  const char* got = actual == kNumber    ? (integer_text ? "integer" : "number")
                    : actual == kNull    ? "null"
                    : actual == kBoolean ? "boolean"
                    : actual == kString  ? "string"
                    : actual == kArray   ? "array"
                                         : "object";
  return "expected " + want + ", got " + got;
}

std::optional<std::string> SchemaNode::scalar_error(const Scalar& v) const {
  if (reject_all) return "no value is allowed here";
  if (auto err = type_error(v.type, v.integral, v.integer_text)) return err;
  if (enum_values || const_value) {
    // A string by the fast path (unquoted members); the rest by canonical text, numbers by value.
    auto text = [&] {
      if (v.type == kNull) return std::string("null");
      if (v.type == kBoolean) return std::string(v.boolean ? "true" : "false");
      if (v.type == kNumber) return number_text(v.number);
      std::string quoted;
      append_quoted(quoted, v.string);
      return quoted;
    };
    bool enum_matched = false, const_matched = false;
    if (v.type == kString) {
      for (const auto& m : enum_strings) enum_matched = enum_matched || m == v.string;
      const_matched = const_string && *const_string == v.string;
    } else {
      const std::string c = text();
      if (enum_values)
        for (const auto& m : *enum_values) enum_matched = enum_matched || m == c;
      const_matched = const_value && *const_value == c;
    }
    if (auto err = enum_error(enum_matched, const_matched, text)) return err;
  }
  if (v.type == kNumber) {
    const double d = v.number;
    if (minimum && d < *minimum) return "must be >= " + number_text(*minimum);
    if (maximum && d > *maximum) return "must be <= " + number_text(*maximum);
    if (exclusive_minimum && d <= *exclusive_minimum) return "must be > " + number_text(*exclusive_minimum);
    if (exclusive_maximum && d >= *exclusive_maximum) return "must be < " + number_text(*exclusive_maximum);
  } else if (v.type == kString) {
    const std::string_view s = v.string;
    if (min_length || max_length) {
      const auto n = utf8_length(s);
      if (min_length && n < *min_length) return "string shorter than " + std::to_string(*min_length);
      if (max_length && n > *max_length) return "string longer than " + std::to_string(*max_length);
    }
    if (pattern && !(simple_pattern ? simple_pattern->search(s) : std::regex_search(s.begin(), s.end(), *pattern)))
      return "string does not match pattern " + pattern_source;
    if (format_kind == Format::date_time && !util::is_rfc3339(s)) return "not an RFC 3339 date-time";
    if (format_kind == Format::uuid && !uuid_pattern().search(s)) return "not a UUID";
  }
  return std::nullopt;
}

namespace {

/// A scalar element as the shared rules read it; nullopt for an array or object.
std::optional<Scalar> scalar_of(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  Scalar v;
  switch (e.type()) {
    case T::NULL_VALUE: v.type = kNull; return v;
    case T::BOOL:
      v.type = kBoolean;
      v.boolean = bool(e);
      return v;
    case T::STRING:
      v.type = kString;
      v.string = std::string_view(e);
      return v;
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      v.type = kNumber;
      v.number = as_double(e);
      v.integral = is_integral(e);
      v.integer_text = e.type() != T::DOUBLE;
      return v;
    case T::ARRAY:
    case T::OBJECT: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ValidationError> validate_element(const SchemaNode& node, simdjson::dom::element e, const PathSeg* path);

std::optional<ValidationError> failure(const PathSeg* path, std::string msg) {
  return std::optional<ValidationError>(ValidationError{path_string(path), std::move(msg)});
}

std::optional<ValidationError> validate_array(const SchemaNode& node, simdjson::dom::array arr, const PathSeg* path) {
  const std::size_t n = arr.size();
  if (node.min_items && n < *node.min_items) return failure(path, "fewer than " + std::to_string(*node.min_items) + " items");
  if (node.max_items && n > *node.max_items) return failure(path, "more than " + std::to_string(*node.max_items) + " items");
  if (node.items) {
    std::size_t i = 0;
    for (auto child : arr) {
      const PathSeg seg{path, {}, i, true};
      if (auto err = validate_element(*node.items, child, &seg)) return err;
      ++i;
    }
  }
  return std::nullopt;
}

std::optional<ValidationError> validate_object(const SchemaNode& node, simdjson::dom::object obj, const PathSeg* path) {
  // One pass over the fields: each is matched to its property (noting the required ones seen)
  // and validated; the required ones missing are reported first, as a lookup per name would.
  std::uint64_t seen = 0;
  std::optional<ValidationError> field_error;
  for (auto field : obj) {
    const std::string_view k = field.key;
    SchemaNode* sub = nullptr;
    bool declared = false;
    for (std::size_t i = 0; i < node.properties.size(); ++i) {
      if (node.properties[i].first == k) {
        sub = node.properties[i].second;
        declared = true;
        if (i < 64) seen |= std::uint64_t{1} << i;
        break;
      }
    }
    if (field_error) continue;  // still noting the required ones
    if (!declared) sub = node.additional;
    if (sub) {
      const PathSeg seg{path, k, 0, false};
      if (auto err = validate_element(*sub, field.value, &seg)) {
        if (!declared && sub->reject_all) err->message = "unknown property \"" + std::string(k) + "\"";
        field_error = std::move(err);
      }
    }
  }
  if ((seen & node.required_bits) != node.required_bits || !node.required_elsewhere.empty()) {
    for (const auto& name : node.required) {
      if (obj.at_key(name).error()) return failure(path, "missing required property \"" + name + "\"");
    }
  }
  return field_error;
}

/// scalar_error's counterpart for a value with members: type, enum and const see it whole, then its items or properties are checked.
std::optional<ValidationError> validate_container(const SchemaNode& node, simdjson::dom::element e, const PathSeg* path) {
  if (node.reject_all) return failure(path, "no value is allowed here");
  const bool is_array = e.type() == simdjson::dom::element_type::ARRAY;
  if (auto msg = node.type_error(is_array ? kArray : kObject, false, false)) return failure(path, std::move(*msg));
  if (node.enum_values || node.const_value) {
    const std::string c = canonical(e);
    bool found = false;
    if (node.enum_values)
      for (const auto& v : *node.enum_values) found = found || v == c;
    if (auto msg = node.enum_error(found, node.const_value && *node.const_value == c, [&]() -> const std::string& { return c; }))
      return failure(path, std::move(*msg));
  }
  if (is_array) return validate_array(node, simdjson::dom::array(e), path);
  return validate_object(node, simdjson::dom::object(e), path);
}

std::optional<ValidationError> validate_combinators(const SchemaNode& node, simdjson::dom::element e, const PathSeg* path) {
  for (auto* s : node.all_of) {
    if (auto err = validate_element(*s, e, path)) return err;
  }
  if (!node.any_of.empty()) {
    std::optional<ValidationError> first;
    bool ok = false;
    for (auto* s : node.any_of) {
      auto err = validate_element(*s, e, path);
      if (!err) {
        ok = true;
        break;
      }
      if (!first) first = err;
    }
    if (!ok) return failure(path, "matches none of anyOf (first: " + first->to_string() + ")");
  }
  if (!node.one_of.empty()) {
    int matched = 0;
    std::string reasons;
    for (auto* s : node.one_of) {
      auto err = validate_element(*s, e, path);
      if (!err) ++matched;
      else reasons += (reasons.empty() ? "" : "; ") + err->to_string();
    }
    if (matched == 0) return failure(path, "matches none of oneOf (" + reasons + ")");
    if (matched > 1) return failure(path, "matches more than one of oneOf");
  }
  if (node.not_ && !validate_element(*node.not_, e, path)) return failure(path, "must not match the 'not' schema");
  return std::nullopt;
}

/// Validates a parsed document against a compiled schema (every keyword, combinators included).
std::optional<ValidationError> validate_element(const SchemaNode& node, simdjson::dom::element e, const PathSeg* path) {
  if (node.ref_target) {
    if (auto err = validate_element(*node.ref_target, e, path)) return err;
  }
  if (auto scalar = scalar_of(e)) {
    if (auto msg = node.scalar_error(*scalar)) return failure(path, std::move(*msg));
  } else if (auto err = validate_container(node, e, path)) {
    return err;
  }
  return validate_combinators(node, e, path);
}

}  // namespace

unsigned schema_type_bit(std::string_view name) { return type_bit(name); }
bool schema_is_integral(simdjson::dom::element e) { return is_integral(e); }
double schema_as_double(simdjson::dom::element e) { return as_double(e); }
std::string schema_canonical(simdjson::dom::element e) { return canonical(e); }
std::optional<ValidationError> validate_document(const SchemaNode& node, simdjson::dom::element e) {
  return validate_element(node, e, nullptr);
}

}  // namespace anipipe::json
