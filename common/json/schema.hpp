#pragma once
// JSON Schema (draft 2020-12) validation for event contracts.
//
// Debian 12 packages no C++ JSON Schema validator, so this is the project's one validator.
// It implements the keywords the schemas in schemas/ use and refuses to load a schema with any
// other keyword: a keyword silently ignored would be a contract silently not enforced.
// Supported: type, enum, const, properties, required, additionalProperties, items, minItems,
// maxItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern,
// format (date-time, uuid), oneOf, anyOf, allOf, not, $ref (same file or a sibling file), $defs,
// and the annotations $schema, $id, title, description, examples, default, $comment, x-version.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anipipe::json {

struct ValidationError {
  std::string instance_path;  // JSON pointer into the validated document, "" for the root
  std::string message;
  std::string to_string() const;
};

class SchemaNode;

/// All schemas of one directory, loaded and cross-linked once at start-up.
/// Lookups are by file name ("anilibria.titles.schema.json") or by topic ("anilibria.titles").
class SchemaRegistry {
public:
  SchemaRegistry();
  ~SchemaRegistry();
  SchemaRegistry(SchemaRegistry&&) noexcept;
  SchemaRegistry& operator=(SchemaRegistry&&) noexcept;

  /// Loads every *.schema.json in dir; throws std::runtime_error naming the file and keyword on error.
  static SchemaRegistry load_directory(const std::filesystem::path& dir);
  /// Loads several ':'-separated directories (later files of the same name win); "" = default_schema_dir().
  static SchemaRegistry load_directories(std::string_view dirs);
  /// Adds one schema document from text (tests); call link() after the last add.
  void add(const std::string& file_name, std::string_view schema_text);
  void link();

  bool has_topic(std::string_view topic) const;
  /// Validates a JSON text against the schema of topic. nullopt = valid.
  std::optional<ValidationError> validate(std::string_view topic, std::string_view json_text) const;
  /// The examples array of a topic's schema, each re-serialized as compact JSON.
  std::vector<std::string> examples(std::string_view topic) const;
  /// "x-version" of the topic's schema (1 if absent).
  int version(std::string_view topic) const;
  std::vector<std::string> topics() const;

private:
  friend class SchemaCheck;
  const SchemaNode* root(std::string_view topic) const;  // nullptr if no such topic
  void add_directory(const std::filesystem::path& dir);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The directory with the project's schemas: $ANIPIPE_SCHEMA_DIR, else <source>/schemas.
std::filesystem::path default_schema_dir();

}  // namespace anipipe::json
