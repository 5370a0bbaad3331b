#pragma once
#include <optional>
#include <string_view>

#include "kafka/message.hpp"
#include "topic_names.hpp"

namespace anipipe::runtime {

inline constexpr const char* kDeadLetterSchema = topic_names::kDlq;

/// The anilibria.dlq record for a record that cannot be processed: provenance in headers and in
/// the JSON envelope (schemas/anilibria.dlq.schema.json), original value kept verbatim, same key,
/// and the input's trace carried on.
kafka::OutRecord make_dead_letter(const kafka::Message& failed, std::string_view dlq_topic, std::string_view worker, std::string_view error,
                                  int schema_version);

/// The same for input that never was a Kafka record (an upstream HTTP body, a WebSocket frame, a
/// recording line): origin names where it came from ("upstream:/anime/releases/latest"), and
/// partition/offset are -1.
kafka::OutRecord make_external_dead_letter(std::string_view origin, std::optional<std::string_view> key, std::string_view raw,
                                           std::string_view dlq_topic, std::string_view worker, std::string_view error, int schema_version);

}  // namespace anipipe::runtime
