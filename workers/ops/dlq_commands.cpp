#include "dlq_commands.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "json/json_writer.hpp"
#include "kafka/producer.hpp"
#include "kafka/topic_reader.hpp"
#include "runtime/dead_letter.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace anipipe::ops {

namespace {

std::optional<std::string> opt_string(simdjson::dom::element e, const char* key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return std::nullopt;
  return std::string(s);
}

DeadLetter parse(const kafka::Message& m) {
  DeadLetter d;
  d.partition = m.partition();
  d.offset = m.offset();
  d.timestamp_ms = m.timestamp_ms();
  d.headers = m.event_headers();
  if (auto v = m.value()) d.envelope = std::string(*v);
  if (auto k = m.key()) d.key = std::string(*k);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(d.envelope).get(root)) {
    d.error = "(not a dead-letter envelope)";
    return d;
  }
  d.error = opt_string(root, "error").value_or("");
  d.worker = opt_string(root, "worker").value_or("");
  d.failed_at = opt_string(root, "failed_at").value_or("");
  simdjson::dom::element source;
  if (!root["source"].get(source)) {
    d.source_topic = opt_string(source, "topic").value_or("");
    std::int64_t n = -1;
    if (!source["partition"].get_int64().get(n)) d.source_partition = static_cast<std::int32_t>(n);
    if (!source["offset"].get_int64().get(n)) d.source_offset = n;
  }
  if (auto k = opt_string(root, "key")) d.key = k;
  if (auto v = opt_string(root, "value")) d.value = v;
  else if (auto b = opt_string(root, "value_base64")) d.value = util::base64_decode(*b);
  std::int64_t count = 0;
  if (!root["redrive_count"].get_int64().get(count)) d.redrive_count = static_cast<int>(count);
  simdjson::dom::element of;
  if (!root["redrive_of"].get(of)) {
    std::int64_t p = 0, o = 0;
    if (!of["partition"].get_int64().get(p) && !of["offset"].get_int64().get(o)) d.redrive_of = {static_cast<std::int32_t>(p), o};
  }
  return d;
}

std::string when(std::int64_t ms) {
  return ms < 0 ? std::string("-") : util::to_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

std::string where(const DeadLetter& d) {
  if (d.source_partition < 0) return d.source_topic;
  return d.source_topic + "[" + std::to_string(d.source_partition) + "]@" + std::to_string(d.source_offset);
}

std::string one_line(std::string s, std::size_t max = 160) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

/// The note a re-drive leaves in the DLQ: an envelope naming the dead letter it re-drove.
kafka::OutRecord note_for(const DeadLetter& d, const std::string& dlq_topic, int schema_version) {
  std::string body;
  json::Writer w(body);
  w.begin_object().field("error", "re-driven to " + d.source_topic).field("worker", "ops");
  w.key("source")
      .begin_object()
      .field("topic", d.source_topic)
      .field("partition", static_cast<std::int64_t>(d.source_partition))
      .field("offset", d.source_offset)
      .key("timestamp_ms")
      .null()
      .end_object();
  if (d.key) w.field("key", *d.key);
  else w.key("key").null();
  w.key("value").null();
  w.field("redrive_count", static_cast<std::int64_t>(d.redrive_count + 1));
  w.key("redrive_of").begin_object().field("partition", static_cast<std::int64_t>(d.partition)).field("offset", d.offset).end_object();
  w.field("failed_at", util::now_rfc3339()).end_object();
  kafka::OutRecord note;
  note.topic = dlq_topic;
  note.key = d.key;
  note.value = std::move(body);
  note.headers = d.headers.child("ops", runtime::kDeadLetterSchema, schema_version);
  return note;
}

const char* outcome_name(RedriveOutcome::Kind k) {
  switch (k) {
    case RedriveOutcome::Kind::redriven: return "redriven";
    case RedriveOutcome::Kind::would_redrive: return "would redrive";
    case RedriveOutcome::Kind::refused: return "refused";
    case RedriveOutcome::Kind::skipped: return "skipped";
    case RedriveOutcome::Kind::failed: return "failed";
  }
  return "?";
}

}  // namespace

bool DlqFilter::matches(const DeadLetter& d) const {
  if (d.redrive_of) return false;
  if (!source_topic.empty() && d.source_topic != source_topic) return false;
  if (!worker.empty() && d.worker != worker) return false;
  if (!error_contains.empty() && d.error.find(error_contains) == std::string::npos) return false;
  if (since_ms > 0 && d.timestamp_ms < since_ms) return false;
  if (record && (d.partition != record->first || d.offset != record->second)) return false;
  return true;
}

std::vector<DeadLetter> read_dead_letters(const kafka::Settings& kafka, const std::string& dlq_topic) {
  std::vector<DeadLetter> all;
  kafka::read_to_end(kafka, dlq_topic, {}, kafka::ReadStart::from_earliest(), [&](const kafka::Message& m) { all.push_back(parse(m)); });
  std::map<std::pair<std::int32_t, std::int64_t>, DeadLetter*> by_place;
  for (auto& d : all) by_place[{d.partition, d.offset}] = &d;
  for (const auto& d : all)
    if (d.redrive_of)
      if (auto it = by_place.find(*d.redrive_of); it != by_place.end()) ++it->second->redriven;
  std::stable_sort(all.begin(), all.end(), [](const DeadLetter& a, const DeadLetter& b) { return a.timestamp_ms < b.timestamp_ms; });
  return all;
}

std::vector<const DeadLetter*> select(const std::vector<DeadLetter>& all, const DlqFilter& filter) {
  std::vector<const DeadLetter*> out;
  for (const auto& d : all)
    if (filter.matches(d)) out.push_back(&d);
  if (filter.limit > 0 && out.size() > filter.limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(filter.limit));
  return out;
}

std::pair<std::int32_t, std::int64_t> parse_dlq_place(const std::string& which) {
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  const auto colon = which.find(':');
  try {
    std::size_t used = 0;
    if (colon != std::string::npos) {
      partition = std::stoi(which.substr(0, colon), &used);
      if (used != colon) throw std::invalid_argument("partition");
    }
    const auto tail = which.substr(colon == std::string::npos ? 0 : colon + 1);
    offset = std::stoll(tail, &used);
    if (used != tail.size() || offset < 0 || partition < 0) throw std::invalid_argument("offset");
  } catch (const std::exception&) {
    throw std::invalid_argument("a dead letter is named OFFSET or PARTITION:OFFSET, not '" + which + "'");
  }
  return {partition, offset};
}

void write_json(json::Writer& w, const DeadLetter& d, bool full) {
  w.begin_object()
      .field("partition", static_cast<std::int64_t>(d.partition))
      .field("offset", d.offset)
      .field("time", when(d.timestamp_ms))
      .field("source_topic", d.source_topic)
      .field("source_partition", static_cast<std::int64_t>(d.source_partition))
      .field("source_offset", d.source_offset)
      .field("worker", d.worker)
      .field("error", d.error)
      .field("key", d.key)
      .field("redrive_count", static_cast<std::int64_t>(d.redrive_count))
      .field("redriven", static_cast<std::int64_t>(d.redriven));
  if (full) {
    w.field("failed_at", d.failed_at).field("envelope", d.envelope).field("value", d.value);
    w.key("headers")
        .begin_object()
        .field("traceparent", d.headers.traceparent)
        .field("correlation_id", d.headers.correlation_id)
        .field("schema", d.headers.schema)
        .field("producer", d.headers.producer)
        .end_object();
  }
  w.end_object();
}

int dlq_list(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, bool json) {
  const auto all = read_dead_letters(kafka, dlq_topic);
  const auto chosen = select(all, filter);
  if (json) {
    std::string out;
    json::Writer w(out);
    w.begin_array();
    for (const auto* d : chosen) write_json(w, *d, false);
    w.end_array();
    std::printf("%s\n", out.c_str());
    return 0;
  }
  for (const auto* d : chosen)
    std::printf("%s  %d:%lld  %s  %s  key=%s%s  %s\n", when(d->timestamp_ms).c_str(), d->partition, static_cast<long long>(d->offset),
                where(*d).c_str(), d->worker.c_str(), d->key.value_or("-").c_str(),
                d->redriven ? ("  (re-driven " + std::to_string(d->redriven) + "x)").c_str() : "", one_line(d->error).c_str());
  std::printf("%zu dead letter(s)%s\n", chosen.size(), filter.limit && chosen.size() == filter.limit ? " (the newest, --limit)" : "");
  return 0;
}

int dlq_show(const kafka::Settings& kafka, const std::string& dlq_topic, const std::string& which) {
  const auto [partition, offset] = parse_dlq_place(which);
  for (const auto& d : read_dead_letters(kafka, dlq_topic)) {
    if (d.partition != partition || d.offset != offset) continue;
    std::printf("dead letter %d:%lld at %s\n", d.partition, static_cast<long long>(d.offset), when(d.timestamp_ms).c_str());
    std::printf("  from      %s\n  worker    %s\n  error     %s\n  key       %s\n  re-driven %d time(s) so far (redrive_count %d)\n",
                where(d).c_str(), d.worker.c_str(), d.error.c_str(), d.key.value_or("(none)").c_str(), d.redriven, d.redrive_count);
    std::printf("  trace     %s\nenvelope:\n%s\noriginal value:\n%s\n", d.headers.traceparent.c_str(), d.envelope.c_str(),
                d.value.value_or("(none)").c_str());
    return 0;
  }
  std::fprintf(stderr, "no record %d:%lld in %s\n", partition, static_cast<long long>(offset), dlq_topic.c_str());
  return 1;
}

int RedriveReport::count(RedriveOutcome::Kind k) const {
  return static_cast<int>(std::count_if(outcomes.begin(), outcomes.end(), [&](const RedriveOutcome& o) { return o.kind == k; }));
}

RedriveReport redrive(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, const RedriveOptions& options) {
  const auto schemas = json::SchemaRegistry::load_directories(options.schema_dirs);
  const auto all = read_dead_letters(kafka, dlq_topic);
  const auto chosen = select(all, filter);
  kafka::Producer producer(kafka);
  RedriveReport report;
  report.matched = chosen.size();
  report.dry_run = options.dry_run;
  using Kind = RedriveOutcome::Kind;
  auto note = [&](Kind kind, const std::string& id, std::string detail) { report.outcomes.push_back({kind, id, std::move(detail)}); };
  for (const auto* d : chosen) {
    const std::string id = std::to_string(d->partition) + ":" + std::to_string(d->offset);
    if (d->source_partition < 0 || d->source_topic.empty()) {
      note(Kind::skipped, id, "it came from " + d->source_topic + ", not from a topic - fix the cause; the upstream is read again anyway");
      continue;
    }
    if (d->redrive_count >= options.max_redrives) {
      note(Kind::refused, id,
           "re-driven " + std::to_string(d->redrive_count) + " time(s) already (--max-redrives " + std::to_string(options.max_redrives) +
               "): a poison record is not sent round again");
      continue;
    }
    if (d->redriven > 0 && !options.again) {
      note(Kind::skipped, id, "re-driven already (--again to send it once more)");
      continue;
    }
    if (options.dry_run) {
      note(Kind::would_redrive, id,
           "-> " + d->source_topic + " (key " + d->key.value_or("-") + "), redrive " + std::to_string(d->redrive_count + 1) +
               " of at most " + std::to_string(options.max_redrives));
      continue;
    }
    kafka::OutRecord record;
    record.topic = d->source_topic;
    record.key = d->key;
    record.value = d->value;
    if (!d->key) record.partition = d->source_partition;  // no key to place it by: where it was
    const auto& schema = d->source_topic;
    record.headers = d->headers.child("ops", schema, schemas.has_topic(schema) ? schemas.version(schema) : 1);
    record.extra_headers = {{"dlq-redrive-count", std::to_string(d->redrive_count + 1)}};
    bool ok = true;
    std::string why;
    producer.produce(record, [&](const kafka::DeliveryResult& r) {
      if (!r.ok) {
        ok = false;
        why = r.error;
      }
    });
    producer.produce(
        note_for(*d, dlq_topic, schemas.has_topic(runtime::kDeadLetterSchema) ? schemas.version(runtime::kDeadLetterSchema) : 1),
        [&](const kafka::DeliveryResult& r) {
          if (!r.ok) {
            ok = false;
            why = r.error;
          }
        });
    if (!producer.flush(std::chrono::seconds(30))) {
      ok = false;
      why = "not acknowledged within 30 s";
    }
    if (ok)
      note(Kind::redriven, id,
           "-> " + d->source_topic + " (key " + d->key.value_or("-") + "), redrive " + std::to_string(d->redrive_count + 1) +
               " of at most " + std::to_string(options.max_redrives));
    else note(Kind::failed, id, why);
  }
  return report;
}

void write_json(json::Writer& w, const RedriveReport& r) {
  using Kind = RedriveOutcome::Kind;
  w.begin_object()
      .field("matched", static_cast<std::int64_t>(r.matched))
      .field("redriven", r.count(Kind::redriven))
      .field("would_redrive", r.count(Kind::would_redrive))
      .field("refused", r.count(Kind::refused))
      .field("skipped", r.count(Kind::skipped))
      .field("failed", r.count(Kind::failed))
      .field("dry_run", r.dry_run);
  w.key("records").begin_array();
  for (const auto& o : r.outcomes)
    w.begin_object().field("record", o.record).field("outcome", outcome_name(o.kind)).field("detail", o.detail).end_object();
  w.end_array().end_object();
}

int dlq_redrive(const kafka::Settings& kafka, const std::string& dlq_topic, const DlqFilter& filter, const RedriveOptions& options) {
  const auto report = redrive(kafka, dlq_topic, filter, options);
  for (const auto& o : report.outcomes) std::printf("%s %s: %s\n", outcome_name(o.kind), o.record.c_str(), o.detail.c_str());
  using Kind = RedriveOutcome::Kind;
  std::printf(R"({"matched":%zu,"redriven":%d,"would_redrive":%d,"refused":%d,"skipped":%d,"failed":%d,"dry_run":%s})"
              "\n",
              report.matched, report.count(Kind::redriven), report.count(Kind::would_redrive), report.count(Kind::refused),
              report.count(Kind::skipped), report.count(Kind::failed), options.dry_run ? "true" : "false");
  return report.count(Kind::refused) || report.count(Kind::failed) ? 1 : 0;
}

}  // namespace anipipe::ops
