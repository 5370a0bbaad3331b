#pragma once
// The headers every anipipe record carries (docs/design.md, "Record headers"): W3C traceparent,
// correlation-id, the value's schema name and version, and the producing worker. Outputs inherit
// the trace and correlation of the input that caused them.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::kafka {

struct EventHeaders {
  std::string traceparent;  // "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"
  std::string correlation_id;
  std::string schema;          // topic whose schema the value follows, e.g. "anilibria.titles"
  std::string schema_version;  // decimal
  std::string producer;        // worker name
  /// When the upstream change behind this record was observed (unix ms, decimal), carried from
  /// ingest's live observations through every output they cause: freshness is measured by it.
  std::string observed_at;

  /// A new root trace (correlation id = trace id unless given). The trace id is random unless a
  /// valid one is given: ingest uses the content-derived event id, so duplicates share a trace.
  static EventHeaders new_root(std::string_view producer, std::string_view correlation_id = {}, std::string_view trace_id = {});
  /// Headers for an output caused by this input: same trace id and correlation id, a new span.
  EventHeaders child(std::string_view producer, std::string_view schema, int schema_version) const;
  /// The trace id part of traceparent, or "" if it is not a valid W3C traceparent.
  std::string_view trace_id() const;
};

/// True if s is a version-00 W3C traceparent with non-zero ids.
bool valid_traceparent(std::string_view s);

/// A traceparent's length: "00-" 32 hex "-" 16 hex "-" 2 hex.
inline constexpr std::size_t kTraceparentSize = 55;
/// A root traceparent for trace_id (32 lower-case hex digits) with a new random span, written into
/// out without allocating (for a producer's per-record path); returns it as a view of out.
std::string_view write_traceparent(std::string_view trace_id, char (&out)[kTraceparentSize]);

namespace header_names {
inline constexpr const char* traceparent = "traceparent";
inline constexpr const char* correlation_id = "correlation-id";
inline constexpr const char* schema = "schema";
inline constexpr const char* schema_version = "schema-version";
inline constexpr const char* producer = "producer";
inline constexpr const char* observed_at = "observed-at";
// Dead letters only (runtime/dead_letter.hpp): where the record came from and why it failed.
inline constexpr const char* dlq_source_topic = "dlq-source-topic";
inline constexpr const char* dlq_source_partition = "dlq-source-partition";
inline constexpr const char* dlq_source_offset = "dlq-source-offset";
inline constexpr const char* dlq_error = "dlq-error";
inline constexpr const char* dlq_worker = "dlq-worker";
}  // namespace header_names

}  // namespace anipipe::kafka
