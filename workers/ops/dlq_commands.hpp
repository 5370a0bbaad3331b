#pragma once
// The dead-letter lifecycle (anilibria.dlq): list and filter what no worker could process, show
// one record's envelope and original value, and re-drive records back to their source topic.
//
// A re-drive publishes the original key and value with the original trace continued and a
// `dlq-redrive-count` header one higher than the dead letter's; a worker that fails the record
// again dead-letters it with that count, so a record already re-driven --max-redrives times is
// refused: a poison record cannot loop. Each re-drive also writes a note into the DLQ itself
// (an envelope with redrive_of = the dead letter's partition and offset), so list shows what was
// re-driven and a second `redrive` does not publish it again (unless --again). Re-driving is at
// least once; the workers' effects are idempotent.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json_writer.hpp"
#include "json/schema.hpp"
#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::ops {

struct DeadLetter {
  std::int32_t partition = 0;  // in the DLQ
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::string error, worker, source_topic, failed_at;
  std::int32_t source_partition = -1;  // -1: not a Kafka record (an upstream body, a frame)
  std::int64_t source_offset = -1;
  std::optional<std::string> key, value;  // value decoded from value_base64 when need be
  int redrive_count = 0;
  std::string envelope;  // the DLQ record's value as stored
  kafka::EventHeaders headers;
  std::optional<std::pair<std::int32_t, std::int64_t>> redrive_of;  // a note, not a failure
  int redriven = 0;                                                 // notes found for this dead letter
};

struct DlqFilter {
  std::string source_topic, worker, error_contains;
  std::int64_t since_ms = 0;                                    // dead letters at or after (record timestamp)
  std::size_t limit = 0;                                        // the newest N (0: all)
  std::optional<std::pair<std::int32_t, std::int64_t>> record;  // only this dead letter (partition, offset)
  bool matches(const DeadLetter& d) const;
};

/// Every record of the DLQ, notes included, with notes counted against the dead letters they name.
std::vector<DeadLetter> read_dead_letters(const kafka::Settings& kafka, const std::string& dlq_topic);
/// The dead letters (not notes) that pass the filter, oldest first, the newest `limit` of them.
std::vector<const DeadLetter*> select(const std::vector<DeadLetter>& all, const DlqFilter& filter);

/// "OFFSET" (partition 0) or "PARTITION:OFFSET"; throws std::invalid_argument otherwise.
std::pair<std::int32_t, std::int64_t> parse_dlq_place(const std::string& which);
/// A dead letter as JSON: the list's fields, and with `full` the envelope, value and headers.
void write_json(json::Writer& w, const DeadLetter& d, bool full);

int dlq_list(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, bool json);
int dlq_show(const kafka::Settings& kafka, const std::string& dlq_topic, const std::string& which);

struct RedriveOptions {
  int max_redrives = 3;
  bool dry_run = false;
  bool again = false;  // re-drive what was re-driven already
  std::string schema_dirs;
};
struct RedriveOutcome {
  enum class Kind { redriven, would_redrive, refused, skipped, failed } kind;
  std::string record;  // PARTITION:OFFSET in the DLQ
  std::string detail;  // one line for a person
};
struct RedriveReport {
  std::size_t matched = 0;
  bool dry_run = false;
  std::vector<RedriveOutcome> outcomes;
  int count(RedriveOutcome::Kind k) const;
};
/// Re-drives (or, dry, judges) the dead letters the filter selects.
RedriveReport redrive(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, const RedriveOptions& options);
void write_json(json::Writer& w, const RedriveReport& report);
/// Prints one line per dead letter (redriven, would redrive, refused, skipped) and a JSON summary.
/// Returns 0, or 1 if any was refused or failed.
int dlq_redrive(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, const RedriveOptions& options);

}  // namespace anipipe::ops
