#include "json/schema.hpp"

#include <simdjson.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "json/schema_node.hpp"
#include "json/simple_pattern.hpp"

// Loading: schema files compiled into SchemaNodes, $refs linked, one root per topic. Validation
// is in schema.cpp.
namespace anipipe::json {

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
  // One family of keywords each; false for a keyword not of theirs.
  bool compile_annotations(const std::string& file, const std::string& ptr, const std::string& k, simdjson::dom::element v);
  bool compile_value_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                              simdjson::dom::element v);
  bool compile_object_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                               simdjson::dom::element v);
  bool compile_array_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                              simdjson::dom::element v);
  bool compile_scalar_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                               simdjson::dom::element v);
  bool compile_combinators(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k, simdjson::dom::element v);
  double checked_number(const std::string& file, const std::string& ptr, simdjson::dom::element v, const char* kw);
  std::size_t checked_count(const std::string& file, const std::string& ptr, simdjson::dom::element v, const char* kw);
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
  for (auto field : simdjson::dom::object(e)) {
    const std::string k(field.key);
    auto v = field.value;
    if (!compile_annotations(file, ptr, k, v) && !compile_value_keywords(*n, file, ptr, k, v) &&
        !compile_object_keywords(*n, file, ptr, k, v) && !compile_array_keywords(*n, file, ptr, k, v) &&
        !compile_scalar_keywords(*n, file, ptr, k, v) && !compile_combinators(*n, file, ptr, k, v))
      bad(file, ptr, "unsupported keyword \"" + k + "\" (the validator would ignore it, so it is refused)");
  }
  n->finish();
  return n;
}

double SchemaRegistry::Impl::checked_number(const std::string& file, const std::string& ptr, simdjson::dom::element v, const char* kw) {
  using T = simdjson::dom::element_type;
  if (v.type() != T::INT64 && v.type() != T::UINT64 && v.type() != T::DOUBLE) bad(file, ptr, std::string(kw) + " must be a number");
  return schema_as_double(v);
}

std::size_t SchemaRegistry::Impl::checked_count(const std::string& file, const std::string& ptr, simdjson::dom::element v, const char* kw) {
  if (!schema_is_integral(v) || schema_as_double(v) < 0) bad(file, ptr, std::string(kw) + " must be a non-negative integer");
  return static_cast<std::size_t>(schema_as_double(v));
}

bool SchemaRegistry::Impl::compile_annotations(const std::string& file, const std::string& ptr, const std::string& k,
                                               simdjson::dom::element v) {
  using T = simdjson::dom::element_type;
  if (k == "$schema" || k == "$id" || k == "title" || k == "description" || k == "default" || k == "$comment" || k == "deprecated" ||
      k == "readOnly" || k == "writeOnly") {
    return true;
  } else if (k == "examples") {
    if (ptr.empty() && v.type() == T::ARRAY)
      for (auto ex : simdjson::dom::array(v)) examples[file].push_back(simdjson::minify(ex));
  } else if (k == "x-version") {
    if (ptr.empty()) versions[file] = static_cast<int>(checked_count(file, ptr, v, "x-version"));
  } else {
    return false;
  }
  return true;
}

bool SchemaRegistry::Impl::compile_value_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                                                  simdjson::dom::element v) {
  using T = simdjson::dom::element_type;
  if (k == "type") {
    if (v.type() == T::STRING) {
      n.types = schema_type_bit(std::string_view(v));
      if (!n.types) bad(file, ptr, "unknown type " + simdjson::minify(v));
    } else if (v.type() == T::ARRAY) {
      for (auto t : simdjson::dom::array(v)) {
        unsigned b = t.type() == T::STRING ? schema_type_bit(std::string_view(t)) : 0;
        if (!b) bad(file, ptr, "unknown type " + simdjson::minify(t));
        n.types |= b;
      }
    } else {
      bad(file, ptr, "type must be a string or an array");
    }
  } else if (k == "enum") {
    if (v.type() != T::ARRAY) bad(file, ptr, "enum must be an array");
    n.enum_values.emplace();
    for (auto x : simdjson::dom::array(v)) {
      n.enum_values->push_back(schema_canonical(x));
      if (x.type() == simdjson::dom::element_type::STRING) n.enum_strings.emplace_back(std::string_view(x));
    }
  } else if (k == "const") {
    n.const_value = schema_canonical(v);
    if (v.type() == T::STRING) n.const_string = std::string(std::string_view(v));
  } else {
    return false;
  }
  return true;
}

bool SchemaRegistry::Impl::compile_object_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                                                   simdjson::dom::element v) {
  using T = simdjson::dom::element_type;
  if (k == "properties") {
    if (v.type() != T::OBJECT) bad(file, ptr, "properties must be an object");
    for (auto p : simdjson::dom::object(v)) {
      const std::string name(p.key);
      n.properties.emplace_back(name, compile(file, ptr + "/properties/" + escape_pointer_token(name), p.value));
    }
  } else if (k == "required") {
    if (v.type() != T::ARRAY) bad(file, ptr, "required must be an array");
    for (auto r : simdjson::dom::array(v)) {
      if (r.type() != T::STRING) bad(file, ptr, "required must list strings");
      n.required.emplace_back(std::string_view(r));
    }
  } else if (k == "additionalProperties") {
    n.additional = compile(file, ptr + "/additionalProperties", v);
  } else if (k == "$defs") {
    if (v.type() != T::OBJECT) bad(file, ptr, "$defs must be an object");
    for (auto d : simdjson::dom::object(v)) compile(file, ptr + "/$defs/" + escape_pointer_token(d.key), d.value);
  } else {
    return false;
  }
  return true;
}

bool SchemaRegistry::Impl::compile_array_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                                                  simdjson::dom::element v) {
  if (k == "items") {
    n.items = compile(file, ptr + "/items", v);
  } else if (k == "minItems") {
    n.min_items = checked_count(file, ptr, v, "minItems");
  } else if (k == "maxItems") {
    n.max_items = checked_count(file, ptr, v, "maxItems");
  } else {
    return false;
  }
  return true;
}

bool SchemaRegistry::Impl::compile_scalar_keywords(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                                                   simdjson::dom::element v) {
  using T = simdjson::dom::element_type;
  if (k == "minimum") {
    n.minimum = checked_number(file, ptr, v, "minimum");
  } else if (k == "maximum") {
    n.maximum = checked_number(file, ptr, v, "maximum");
  } else if (k == "exclusiveMinimum") {
    n.exclusive_minimum = checked_number(file, ptr, v, "exclusiveMinimum");
  } else if (k == "exclusiveMaximum") {
    n.exclusive_maximum = checked_number(file, ptr, v, "exclusiveMaximum");
  } else if (k == "minLength") {
    n.min_length = checked_count(file, ptr, v, "minLength");
  } else if (k == "maxLength") {
    n.max_length = checked_count(file, ptr, v, "maxLength");
  } else if (k == "pattern") {
    if (v.type() != T::STRING) bad(file, ptr, "pattern must be a string");
    n.pattern_source = std::string(std::string_view(v));
    try {
      n.pattern.emplace(n.pattern_source, std::regex::ECMAScript);
      n.simple_pattern = SimplePattern::compile(n.pattern_source);
    } catch (const std::regex_error& err) {
      bad(file, ptr, "pattern does not compile: " + std::string(err.what()));
    }
  } else if (k == "format") {
    if (v.type() != T::STRING) bad(file, ptr, "format must be a string");
    n.format = std::string(std::string_view(v));
    if (n.format != "date-time" && n.format != "uuid") bad(file, ptr, "unsupported format " + n.format);
  } else {
    return false;
  }
  return true;
}

bool SchemaRegistry::Impl::compile_combinators(SchemaNode& n, const std::string& file, const std::string& ptr, const std::string& k,
                                               simdjson::dom::element v) {
  auto schema_list = [&](std::vector<SchemaNode*>& out) {
    if (v.type() != simdjson::dom::element_type::ARRAY) bad(file, ptr, k + " must be an array");
    std::size_t i = 0;
    for (auto s : simdjson::dom::array(v)) out.push_back(compile(file, ptr + "/" + k + "/" + std::to_string(i++), s));
  };
  if (k == "oneOf") {
    schema_list(n.one_of);
  } else if (k == "anyOf") {
    schema_list(n.any_of);
  } else if (k == "allOf") {
    schema_list(n.all_of);
  } else if (k == "not") {
    n.not_ = compile(file, ptr + "/not", v);
  } else if (k == "$ref") {
    if (v.type() != simdjson::dom::element_type::STRING) bad(file, ptr, "$ref must be a string");
    n.ref = std::string(std::string_view(v));
    unresolved.emplace_back(&n, file);
  } else {
    return false;
  }
  return true;
}

namespace {

/// Whether a SchemaCheck can follow a document of this schema as it is written (see streamable).
/// A $ref cycle counts as streamable while it is being looked at: the other nodes decide.
bool streamable(const SchemaNode& node, std::vector<const SchemaNode*>& visiting) {
  for (const auto* v : visiting)
    if (v == &node) return true;
  if (!node.one_of.empty() || !node.any_of.empty() || !node.all_of.empty() || node.not_ || !node.required_elsewhere.empty()) return false;
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
  if (file_name.size() > suffix.size() && file_name.ends_with(suffix)) return file_name.substr(0, file_name.size() - suffix.size());
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
    if (it == impl_->by_pointer.end()) throw std::runtime_error("schema " + file + ": $ref " + node->ref + " does not resolve to a schema");
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
  if (auto err = parser.parse(buffer.data(), json_text.size(), false).get(doc))
    return ValidationError{"", std::string("not JSON: ") + simdjson::error_message(err)};
  return validate_document(*it->second, doc);
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
