#pragma once
// What the consumer loops (at-least-once, batch and transactional) enforce around a handler, in one
// place: which schema a topic's values follow, which inputs are dead-lettered before the handler
// sees them, how outputs get their headers and are checked against their contracts, and what a
// dead letter looks like.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json/schema.hpp"
#include "kafka/message.hpp"

namespace anipipe::runtime {

struct LoopSettings;

class RecordContract {
public:
  /// Both must outlive the contract.
  RecordContract(const LoopSettings& settings, const json::SchemaRegistry& schemas) : settings_(settings), schemas_(schemas) {}

  /// The schema a topic's values follow: its own name, a configured alias, or anilibria.dlq's for the DLQ topic.
  std::string_view schema_of(std::string_view topic) const;
  /// Why the input must be dead-lettered before its handler sees it (not JSON, schema violation,
  /// a tombstone where none is valid), or nullopt.
  std::optional<std::string> reject_input(const kafka::Message& msg) const;
  /// Gives outputs without headers a child of the input's trace and their schema's name and
  /// version; returns why the input must be dead-lettered if an output breaks its contract.
  std::optional<std::string> prepare_outputs(const kafka::Message& msg, std::vector<kafka::OutRecord>& outputs) const;
  /// The same for one output, given its input's headers (a handler that builds and produces its
  /// outputs itself, as notify's fan-out does).
  std::optional<std::string> prepare_output(const kafka::EventHeaders& input, kafka::OutRecord& out) const;
  kafka::OutRecord dead_letter(const kafka::Message& msg, std::string_view reason) const;

private:
  const LoopSettings& settings_;
  const json::SchemaRegistry& schemas_;
};

}  // namespace anipipe::runtime
