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
  static const SimplePattern p =
      *SimplePattern::compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
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
  for (auto [bit, name] : {std::pair{kNull, "null"}, {kBoolean, "boolean"}, {kInteger, "integer"}, {kNumber, "number"},
                           {kString, "string"}, {kArray, "array"}, {kObject, "object"}}) {
    if (types & bit) want += (want.empty() ? "" : " or ") + std::string(name);
  }
  const char* got = actual == kNumber ? (integer_text ? "integer" : "number")
                    : actual == kNull ? "null" : actual == kBoolean ? "boolean" : actual == kString ? "string"
                    : actual == kArray ? "array" : "object";
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
    case T::BOOL: v.type = kBoolean; v.boolean = bool(e); return v;
    case T::STRING: v.type = kString; v.string = std::string_view(e); return v;
    case T::INT64: case T::UINT64: case T::DOUBLE:
      v.type = kNumber;
      v.number = as_double(e);
      v.integral = is_integral(e);
      v.integer_text = e.type() != T::DOUBLE;
      return v;
    case T::ARRAY: case T::OBJECT: return std::nullopt;
  }
  return std::nullopt;
}

/// Validates a parsed document against a compiled schema (every keyword, combinators included).
std::optional<ValidationError> validate_element(const SchemaNode& node, simdjson::dom::element e, const PathSeg* path) {
  auto fail = [&](std::string msg) { return std::optional<ValidationError>(ValidationError{path_string(path), std::move(msg)}); };
  if (node.ref_target) {
    if (auto err = validate_element(*node.ref_target, e, path)) return err;
  }
  using T = simdjson::dom::element_type;
  if (auto scalar = scalar_of(e)) {
    if (auto msg = node.scalar_error(*scalar)) return fail(std::move(*msg));
  } else {
    if (node.reject_all) return fail("no value is allowed here");
    const bool is_array = e.type() == T::ARRAY;
    if (auto msg = node.type_error(is_array ? kArray : kObject, false, false)) return fail(std::move(*msg));
    if (node.enum_values || node.const_value) {
      const std::string c = canonical(e);
      bool found = false;
      if (node.enum_values)
        for (const auto& v : *node.enum_values) found = found || v == c;
      if (auto msg = node.enum_error(found, node.const_value && *node.const_value == c, [&] { return c; }))
        return fail(std::move(*msg));
    }
    if (is_array) {
      auto arr = simdjson::dom::array(e);
      const std::size_t n = arr.size();
      if (node.min_items && n < *node.min_items) return fail("fewer than " + std::to_string(*node.min_items) + " items");
      if (node.max_items && n > *node.max_items) return fail("more than " + std::to_string(*node.max_items) + " items");
      if (node.items) {
        std::size_t i = 0;
        for (auto child : arr) {
          const PathSeg seg{path, {}, i, true};
          if (auto err = validate_element(*node.items, child, &seg)) return err;
          ++i;
        }
      }
    } else {
      auto obj = simdjson::dom::object(e);
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
          if (obj.at_key(name).error()) return fail("missing required property \"" + name + "\"");
        }
      }
      if (field_error) return field_error;
    }
  }
  for (auto* s : node.all_of) {
    if (auto err = validate_element(*s, e, path)) return err;
  }
  if (!node.any_of.empty()) {
    std::optional<ValidationError> first;
    bool ok = false;
    for (auto* s : node.any_of) {
      auto err = validate_element(*s, e, path);
      if (!err) { ok = true; break; }
      if (!first) first = err;
    }
    if (!ok) return fail("matches none of anyOf (first: " + first->to_string() + ")");
  }
  if (!node.one_of.empty()) {
    int matched = 0;
    std::string reasons;
    for (auto* s : node.one_of) {
      auto err = validate_element(*s, e, path);
      if (!err) ++matched;
      else reasons += (reasons.empty() ? "" : "; ") + err->to_string();
    }
    if (matched == 0) return fail("matches none of oneOf (" + reasons + ")");
    if (matched > 1) return fail("matches more than one of oneOf");
  }
  if (node.not_ && !validate_element(*node.not_, e, path)) return fail("must not match the 'not' schema");
  return std::nullopt;
}

}  // namespace

struct SchemaRegistry::Impl {
  std::vector<std::unique_ptr<SchemaNode>> nodes;
  // (file name, JSON pointer) -> node, for $ref resolution.
  std::map<std::pair<std::string, std::string>, SchemaNode*> by_pointer;
  std::map<std::string, SchemaNode*, std::less<>> roots;  // by topic
  std::map<std::string, std::vector<std::string>, std::less<>> examples;
  std::map<std::string, int, std::less<>> versions;
  std::vector<std::pair<SchemaNode*, std::string>> unresolved;  // node, file of origin
  simdjson::dom::parser parser;

  SchemaNode* compile(const std::string& file, const std::string& ptr, simdjson::dom::element e);
  [[noreturn]] void bad(const std::string& file, const std::string& ptr, const std::string& what) {
    throw std::runtime_error("schema " + file + " at #" + ptr + ": " + what);
  }
};

SchemaNode* SchemaRegistry::Impl::compile(const std::string& file, const std::string& ptr, simdjson::dom::element e) {
  nodes.push_back(std::make_unique<SchemaNode>());
  SchemaNode* n = nodes.back().get();
  by_pointer[{file, ptr}] = n;
  using T = simdjson::dom::element_type;
  if (e.type() == T::BOOL) {
    n->reject_all = !bool(e);
    return n;
  }
  if (e.type() != T::OBJECT) bad(file, ptr, "a schema must be an object or a boolean");

  auto number = [&](simdjson::dom::element v, const char* kw) {
    if (v.type() != T::INT64 && v.type() != T::UINT64 && v.type() != T::DOUBLE) bad(file, ptr, std::string(kw) + " must be a number");
    return as_double(v);
  };
  auto count = [&](simdjson::dom::element v, const char* kw) {
    if (!is_integral(v) || as_double(v) < 0) bad(file, ptr, std::string(kw) + " must be a non-negative integer");
    return static_cast<std::size_t>(as_double(v));
  };
  auto schema_list = [&](simdjson::dom::element v, const std::string& kw, std::vector<SchemaNode*>& out) {
    if (v.type() != T::ARRAY) bad(file, ptr, kw + " must be an array");
    std::size_t i = 0;
    for (auto s : simdjson::dom::array(v)) out.push_back(compile(file, ptr + "/" + kw + "/" + std::to_string(i++), s));
  };

  for (auto field : simdjson::dom::object(e)) {
    const std::string k(field.key);
    auto v = field.value;
    if (k == "$schema" || k == "$id" || k == "title" || k == "description" || k == "default" || k == "$comment" ||
        k == "deprecated" || k == "readOnly" || k == "writeOnly") {
      continue;
    } else if (k == "examples") {
      if (ptr.empty() && v.type() == T::ARRAY)
        for (auto ex : simdjson::dom::array(v)) examples[file].push_back(simdjson::minify(ex));
    } else if (k == "x-version") {
      if (ptr.empty()) versions[file] = static_cast<int>(count(v, "x-version"));
    } else if (k == "type") {
      if (v.type() == T::STRING) {
        n->types = type_bit(std::string_view(v));
        if (!n->types) bad(file, ptr, "unknown type " + simdjson::minify(v));
      } else if (v.type() == T::ARRAY) {
        for (auto t : simdjson::dom::array(v)) {
          unsigned b = t.type() == T::STRING ? type_bit(std::string_view(t)) : 0;
          if (!b) bad(file, ptr, "unknown type " + simdjson::minify(t));
          n->types |= b;
        }
      } else {
        bad(file, ptr, "type must be a string or an array");
      }
    } else if (k == "enum") {
      if (v.type() != T::ARRAY) bad(file, ptr, "enum must be an array");
      n->enum_values.emplace();
      for (auto x : simdjson::dom::array(v)) {
        n->enum_values->push_back(canonical(x));
        if (x.type() == simdjson::dom::element_type::STRING) n->enum_strings.emplace_back(std::string_view(x));
      }
    } else if (k == "const") {
      n->const_value = canonical(v);
      if (v.type() == T::STRING) n->const_string = std::string(std::string_view(v));
    } else if (k == "properties") {
      if (v.type() != T::OBJECT) bad(file, ptr, "properties must be an object");
      for (auto p : simdjson::dom::object(v)) {
        const std::string name(p.key);
        n->properties.emplace_back(name, compile(file, ptr + "/properties/" + escape_pointer_token(name), p.value));
      }
    } else if (k == "required") {
      if (v.type() != T::ARRAY) bad(file, ptr, "required must be an array");
      for (auto r : simdjson::dom::array(v)) {
        if (r.type() != T::STRING) bad(file, ptr, "required must list strings");
        n->required.emplace_back(std::string_view(r));
      }
    } else if (k == "additionalProperties") {
      n->additional = compile(file, ptr + "/additionalProperties", v);
    } else if (k == "items") {
      n->items = compile(file, ptr + "/items", v);
    } else if (k == "$defs") {
      if (v.type() != T::OBJECT) bad(file, ptr, "$defs must be an object");
      for (auto d : simdjson::dom::object(v)) compile(file, ptr + "/$defs/" + escape_pointer_token(d.key), d.value);
    } else if (k == "minimum") { n->minimum = number(v, "minimum");
    } else if (k == "maximum") { n->maximum = number(v, "maximum");
    } else if (k == "exclusiveMinimum") { n->exclusive_minimum = number(v, "exclusiveMinimum");
    } else if (k == "exclusiveMaximum") { n->exclusive_maximum = number(v, "exclusiveMaximum");
    } else if (k == "minLength") { n->min_length = count(v, "minLength");
    } else if (k == "maxLength") { n->max_length = count(v, "maxLength");
    } else if (k == "minItems") { n->min_items = count(v, "minItems");
    } else if (k == "maxItems") { n->max_items = count(v, "maxItems");
    } else if (k == "pattern") {
      if (v.type() != T::STRING) bad(file, ptr, "pattern must be a string");
      n->pattern_source = std::string(std::string_view(v));
      try {
        n->pattern.emplace(n->pattern_source, std::regex::ECMAScript);
        n->simple_pattern = SimplePattern::compile(n->pattern_source);
      } catch (const std::regex_error& err) {
        bad(file, ptr, "pattern does not compile: " + std::string(err.what()));
      }
    } else if (k == "format") {
      if (v.type() != T::STRING) bad(file, ptr, "format must be a string");
      n->format = std::string(std::string_view(v));
      if (n->format != "date-time" && n->format != "uuid") bad(file, ptr, "unsupported format " + n->format);
    } else if (k == "oneOf") { schema_list(v, "oneOf", n->one_of);
    } else if (k == "anyOf") { schema_list(v, "anyOf", n->any_of);
    } else if (k == "allOf") { schema_list(v, "allOf", n->all_of);
    } else if (k == "not") { n->not_ = compile(file, ptr + "/not", v);
    } else if (k == "$ref") {
      if (v.type() != T::STRING) bad(file, ptr, "$ref must be a string");
      n->ref = std::string(std::string_view(v));
      unresolved.emplace_back(n, file);
    } else {
      bad(file, ptr, "unsupported keyword \"" + k + "\" (the validator would ignore it, so it is refused)");
    }
  }
  n->finish();
  return n;
}

namespace {

/// Whether a SchemaCheck can follow a document of this schema as it is written (see streamable).
/// A $ref cycle counts as streamable while it is being looked at: the other nodes decide.
bool streamable(const SchemaNode& node, std::vector<const SchemaNode*>& visiting) {
  for (const auto* v : visiting)
    if (v == &node) return true;
  if (!node.one_of.empty() || !node.any_of.empty() || !node.all_of.empty() || node.not_ || !node.required_elsewhere.empty())
    return false;
  int member_schemas = 0;
  for (const SchemaNode* n = &node; n; n = n->ref_target) member_schemas += n->constrains_members();
  if (member_schemas > 1) return false;
  visiting.push_back(&node);
  bool ok = !node.ref_target || streamable(*node.ref_target, visiting);
  for (const auto& [_, sub] : node.properties) ok = ok && streamable(*sub, visiting);
  if (node.additional) ok = ok && streamable(*node.additional, visiting);
  if (node.items) ok = ok && streamable(*node.items, visiting);
  visiting.pop_back();
  return ok;
}

bool streamable(const SchemaNode& node) {
  std::vector<const SchemaNode*> visiting;
  return streamable(node, visiting);
}

}  // namespace

SchemaRegistry::SchemaRegistry() : impl_(std::make_unique<Impl>()) {}
SchemaRegistry::~SchemaRegistry() = default;
SchemaRegistry::SchemaRegistry(SchemaRegistry&&) noexcept = default;
SchemaRegistry& SchemaRegistry::operator=(SchemaRegistry&&) noexcept = default;

namespace {
std::string topic_of(const std::string& file_name) {
  constexpr std::string_view suffix = ".schema.json";
  if (file_name.size() > suffix.size() && file_name.ends_with(suffix))
    return file_name.substr(0, file_name.size() - suffix.size());
  return file_name;
}
}  // namespace

void SchemaRegistry::add(const std::string& file_name, std::string_view schema_text) {
  simdjson::dom::element root;
  simdjson::padded_string padded(schema_text);
  if (auto err = impl_->parser.parse(padded).get(root))
    throw std::runtime_error("schema " + file_name + " is not JSON: " + simdjson::error_message(err));
  impl_->roots[topic_of(file_name)] = impl_->compile(file_name, "", root);
}

void SchemaRegistry::link() {
  for (auto& [node, file] : impl_->unresolved) {
    const auto hash = node->ref.find('#');
    std::string target_file = hash == 0 ? file : node->ref.substr(0, hash);
    std::string pointer = hash == std::string::npos ? "" : node->ref.substr(hash + 1);
    auto it = impl_->by_pointer.find({target_file, pointer});
    if (it == impl_->by_pointer.end())
      throw std::runtime_error("schema " + file + ": $ref " + node->ref + " does not resolve to a schema");
    node->ref_target = it->second;
  }
  impl_->unresolved.clear();
  for (auto& node : impl_->nodes) node->streamable = streamable(*node);
}

const SchemaNode* SchemaRegistry::root(std::string_view topic) const {
  auto it = impl_->roots.find(topic);
  return it == impl_->roots.end() ? nullptr : it->second;
}

void SchemaRegistry::add_directory(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error("schema directory " + dir.string() + " does not exist (set --schema-dir or ANIPIPE_SCHEMA_DIR)");
  std::set<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string().ends_with(".schema.json")) files.insert(entry.path());
  }
  for (const auto& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    add(p.filename().string(), ss.str());
  }
}

SchemaRegistry SchemaRegistry::load_directory(const std::filesystem::path& dir) {
  SchemaRegistry reg;
  reg.add_directory(dir);
  reg.link();
  return reg;
}

SchemaRegistry SchemaRegistry::load_directories(std::string_view dirs) {
  if (dirs.empty()) return load_directory(default_schema_dir());
  SchemaRegistry reg;
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    if (!dir.empty()) reg.add_directory(std::filesystem::path(dir));
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
  }
  reg.link();
  return reg;
}

bool SchemaRegistry::has_topic(std::string_view topic) const { return impl_->roots.find(topic) != impl_->roots.end(); }

std::optional<ValidationError> SchemaRegistry::validate(std::string_view topic, std::string_view json_text) const {
  auto it = impl_->roots.find(topic);
  if (it == impl_->roots.end()) return ValidationError{"", "no schema for topic " + std::string(topic)};
  // One parser per thread: validation runs on every worker thread's hot path.
  thread_local simdjson::dom::parser parser;
  // One padded buffer per thread, reused: a copy per validation is unavoidable, an allocation is not.
  thread_local std::vector<char> buffer;
  if (buffer.size() < json_text.size() + simdjson::SIMDJSON_PADDING) buffer.resize(json_text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buffer.data(), json_text.data(), json_text.size());
  simdjson::dom::element doc;
  if (auto err = parser.parse(buffer.data(), json_text.size(), false).get(doc)) return ValidationError{"", std::string("not JSON: ") + simdjson::error_message(err)};
  return validate_element(*it->second, doc, nullptr);
}

std::vector<std::string> SchemaRegistry::examples(std::string_view topic) const {
  auto it = impl_->examples.find(std::string(topic) + ".schema.json");
  return it == impl_->examples.end() ? std::vector<std::string>{} : it->second;
}

int SchemaRegistry::version(std::string_view topic) const {
  auto it = impl_->versions.find(std::string(topic) + ".schema.json");
  return it == impl_->versions.end() ? 1 : it->second;
}

std::vector<std::string> SchemaRegistry::topics() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : impl_->roots) out.push_back(t);
  return out;
}

std::filesystem::path default_schema_dir() {
  if (const char* d = std::getenv("ANIPIPE_SCHEMA_DIR"); d && *d) return d;
  if (const char* s = std::getenv("ANIPIPE_SOURCE_DIR"); s && *s) return std::filesystem::path(s) / "schemas";
  return std::filesystem::path(ANIPIPE_DEFAULT_SOURCE_DIR) / "schemas";
}

}  // namespace anipipe::json
