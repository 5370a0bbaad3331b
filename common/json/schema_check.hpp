#pragma once
// A document checked against its topic's schema while a json::Writer writes it: the writer tells
// the check of every key and value (json::WriteObserver), so the written text is not parsed
// again. The same rules as SchemaRegistry::validate (json/schema_node.hpp); a schema that needs
// the whole document at once (oneOf, anyOf, allOf, not) is validated from the text instead.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "json/json_writer.hpp"
#include "json/schema.hpp"

namespace anipipe::json {

struct Scalar;

class SchemaCheck final : public WriteObserver {
public:
  /// Throws std::invalid_argument if the registry has no schema for topic.
  SchemaCheck(const SchemaRegistry& registry, std::string_view topic);

  /// Before each document: forgets the last one.
  void reset();
  /// After the document is written: nullopt if it is valid. `written` is what the writer wrote;
  /// it is validated in full when the writing could not be followed (a schema that needs the whole
  /// document, raw JSON, an enum or const of an object or array).
  std::optional<ValidationError> result(std::string_view written) const;
  /// Whether documents of this schema are checked as they are written (false: from the text).
  bool follows_writer() const { return streamable_; }

  void begin_object() override { begin_container(false); }
  void begin_array() override { begin_container(true); }
  void end() override;
  void key(std::string_view k) override;
  void string(std::string_view s) override;
  void number(double d, bool integer) override;
  void boolean(bool b) override;
  void null() override;
  void raw() override { undecided_ = true; }

private:
  struct Frame {
    const SchemaNode* node = nullptr;  // the one with the member keywords; nullptr: any members
    bool is_array = false;
    std::uint64_t seen = 0;  // object: the properties met, a bit each
    std::size_t next = 0;    // object: where the next key is looked for first
    std::size_t count = 0;   // array: items so far
    // Where this container is in its parent, for error paths.
    std::string_view key;
    std::size_t index = 0;
    bool by_index = false, at_root = false;
  };

  /// The schema of the value about to be written (nullptr: anything goes), and notes its place.
  const SchemaNode* next_value();
  void check_scalar(const Scalar& v);
  void begin_container(bool is_array);
  void fail(std::string message, bool at_child);
  bool idle() const { return undecided_ || error_.has_value(); }

  const SchemaRegistry& registry_;
  std::string_view topic_;
  const SchemaNode* root_;
  bool streamable_;
  std::vector<Frame> frames_;
  // The value the next event is: the schema a key chose, and the key (objects).
  const SchemaNode* pending_ = nullptr;
  std::string_view pending_key_;
  bool pending_unknown_ = false;  // the key is not a declared property
  bool root_done_ = false;
  bool undecided_ = false;
  std::optional<ValidationError> error_;
};

}  // namespace anipipe::json
