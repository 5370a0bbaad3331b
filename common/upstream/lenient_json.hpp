#pragma once
// Reading upstream JSON the way the upstream actually writes it (docs/upstream.md, "Payload quirks"):
// ids as numbers or strings, numbers that may be fractional or quoted, objects that may be null.
// Every accessor returns nullopt instead of throwing when a field is missing, null or unusable.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "upstream/isa.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace lenient {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

/// The field's value if present and not null.
std::optional<value> field(object& obj, std::string_view key);
/// A nested object (nullopt if missing, null or not an object).
std::optional<object> object_field(object& obj, std::string_view key);
/// A string, or nullopt (missing, null, or not a string).
std::optional<std::string_view> string_field(object& obj, std::string_view key);
/// An integer from 42, 42.0 or "42"; nullopt otherwise.
std::optional<std::int64_t> int_field(object& obj, std::string_view key);
/// A number from 12.5, 12 or "12.5"; nullopt otherwise.
std::optional<double> number_field(object& obj, std::string_view key);
/// A boolean from true/false, 1/0 or "true"/"false".
std::optional<bool> bool_field(object& obj, std::string_view key);

std::optional<std::int64_t> as_int(value v);
std::optional<object> as_object(value v);
std::optional<simdjson::ondemand::array> as_array(value v);

// On-Demand validates as it goes, and after a real error (not "no such field", not "wrong type")
// the document must not be touched again. Every accessor here latches such an error, and then
// answers nullopt to everything until reset() at the next document; the normalizer rejects a
// document that latched one.
bool ok(simdjson::error_code e);
bool broken();
void reset();
std::optional<double> as_number(value v);
std::optional<std::string_view> as_string(value v);

}  // namespace lenient
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
