#pragma once
// Schemas for the JSON unit tests: the project's, and one-off registries built from a text.
#include <string>

#include "json/schema.hpp"

namespace anipipe::json::test {

inline const SchemaRegistry& project_schemas() {
  static const SchemaRegistry reg = SchemaRegistry::load_directory(default_schema_dir());
  return reg;
}

/// A registry holding one schema, as topic "t".
inline SchemaRegistry one(const std::string& schema) {
  SchemaRegistry reg;
  reg.add("t.schema.json", schema);
  reg.link();
  return reg;
}

}  // namespace anipipe::json::test
