#pragma once
// The compiled form of one schema (json/schema.hpp), private to the validators: the DOM validator
// (schema.cpp) and the check that follows a Writer (schema_check.cpp) share it, and share the
// rules for a scalar value, so the two cannot drift apart.
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "json/schema.hpp"
#include "json/simple_pattern.hpp"

namespace anipipe::json {

enum TypeBit : unsigned { kNull = 1, kBoolean = 2, kInteger = 4, kNumber = 8, kString = 16, kArray = 32, kObject = 64 };

/// A scalar instance, however it was read: from a parsed document or as a Writer wrote it.
struct Scalar {
  unsigned type = kNull;  // kNull, kBoolean, kNumber or kString
  double number = 0;
  bool integral = false;      // a number with no fractional part (what "integer" accepts)
  bool integer_text = false;  // written as an integer: names the type "integer" in messages
  bool boolean = false;
  std::string_view string;  // unescaped
};

class SchemaNode {
public:
  bool reject_all = false;  // the boolean schema false
  unsigned types = 0;       // 0 = any type
  std::vector<std::pair<std::string, SchemaNode*>> properties;
  std::vector<std::string> required;
  // Resolved by finish(): which of properties are required (a bit per property, up to 64), and the
  // required names that are not among properties (checked by lookup).
  std::uint64_t required_bits = 0;
  std::vector<std::string> required_elsewhere;
  SchemaNode* additional = nullptr;
  SchemaNode* items = nullptr;
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
  std::optional<std::size_t> min_length, max_length, min_items, max_items;
  std::optional<std::regex> pattern;
  std::optional<SimplePattern> simple_pattern;  // the same pattern matched by hand, when it can be
  std::string pattern_source;
  std::optional<std::vector<std::string>> enum_values;  // canonical texts
  std::vector<std::string> enum_strings;                // the enum's string members, unquoted (fast path)
  std::optional<std::string> const_value;               // canonical text
  std::optional<std::string> const_string;              // a string const, unquoted
  std::vector<SchemaNode*> one_of, any_of, all_of;
  SchemaNode* not_ = nullptr;
  std::string format;
  enum class Format { none, date_time, uuid } format_kind = Format::none;
  std::string ref;  // as written
  SchemaNode* ref_target = nullptr;
  // Set by SchemaRegistry::link(): whether documents can be checked while they are written
  // (SchemaCheck): no oneOf/anyOf/allOf/not, and no $ref chain with two object or array schemas.
  bool streamable = false;

  /// After every keyword is read: derives the fast-path fields.
  void finish();
  /// Whether this node (not its $ref) constrains the members of an object or array.
  bool constrains_members() const { return !properties.empty() || !required.empty() || additional || items || min_items || max_items; }
  /// This node's own keywords (not its $ref's) against a scalar: the message, or nullopt.
  std::optional<std::string> scalar_error(const Scalar& v) const;
  /// The type keyword against a value of type `actual` (one TypeBit): the message, or nullopt.
  std::optional<std::string> type_error(unsigned actual, bool integral, bool integer_text) const;
  /// The enum and const keywords, given whether the value matched each; `got()` gives the value's
  /// canonical text, and is called only for the message.
  template <class Got>
  std::optional<std::string> enum_error(bool enum_matched, bool const_matched, Got&& got) const {
    if (const_value && !const_matched) return "must equal " + *const_value;
    if (enum_values && !enum_matched) {
      std::string list;
      for (const auto& m : *enum_values) list += (list.empty() ? "" : ", ") + m;
      return "must be one of " + list + ", got " + got();
    }
    return std::nullopt;
  }
};

/// A key as a JSON pointer token (RFC 6901: ~ and / escaped).
std::string escape_pointer_token(std::string_view t);
/// Shortest round-trip text of a number, as messages and enum comparisons write it.
std::string number_text(double d);

// Shared by validation (schema.cpp) and loading (schema_registry.cpp).
/// The type bit of a JSON Schema type name ("string", "integer", ...); 0 if unknown.
unsigned schema_type_bit(std::string_view name);
bool schema_is_integral(simdjson::dom::element e);
double schema_as_double(simdjson::dom::element e);
/// A value as canonical JSON text, for enum and const comparisons.
std::string schema_canonical(simdjson::dom::element e);
/// Validates a parsed document against a compiled schema (every keyword, combinators included).
std::optional<ValidationError> validate_document(const SchemaNode& node, simdjson::dom::element e);

}  // namespace anipipe::json
