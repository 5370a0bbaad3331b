#pragma once
// Reading the records notify acts on (new episodes, title documents): their values passed the
// topic's schema, so a missing field is a broken contract, reported by name for the dead letter.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

namespace anipipe::notify {

/// The record's JSON document (valid until the parser's next parse); throws std::invalid_argument.
inline simdjson::dom::element parse_record(std::string_view json, simdjson::dom::parser& parser, std::string_view record) {
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) throw std::invalid_argument(std::string(record) + " is not JSON");
  return doc;
}

/// The value of a field the record must have; throws std::invalid_argument "<record> without <field>".
template <class Result>
auto required(Result&& result, std::string_view record, std::string_view field) {
  if (result.error()) throw std::invalid_argument(std::string(record) + " without " + std::string(field));
  return std::forward<Result>(result).value_unsafe();
}

}  // namespace anipipe::notify
