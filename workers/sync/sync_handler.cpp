#include "sync_handler.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <set>

#include "json/json_writer.hpp"
#include "kafka/topic_reader.hpp"
#include "title_change.hpp"
#include "util/clock.hpp"

namespace anipipe::sync {

using runtime::Handled;

namespace {
// One parser for every record (a parser allocates its buffers; a new one per record would too).
simdjson::dom::parser& record_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}
}  // namespace

void SyncHandler::rebuild(const std::vector<kafka::TopicPartition>& tps) {
  std::set<std::int32_t> partitions;
  for (const auto& tp : tps) partitions.insert(tp.partition);
  for (auto p : partitions) state_.drop_partition(p);
  if (partitions.empty()) return;
  const auto started = std::chrono::steady_clock::now();
  const auto n = kafka::read_to_end(kafka_, topics_.titles, {partitions.begin(), partitions.end()}, kafka::ReadStart::from_earliest(),
                                    [&](const kafka::Message& m) {
                                      auto key = m.key();
                                      if (!key) return;
                                      const auto id = std::strtoll(std::string(*key).c_str(), nullptr, 10);
                                      auto v = m.value();
                                      if (!v) return state_.apply(m.partition(), id, std::nullopt);
                                      try {
                                        state_.apply(m.partition(), id, catalog::TitleDocument::parse(*v));
                                      } catch (const std::exception& e) {
                                        spdlog::warn("skipping unreadable {} record {}: {}", topics_.titles, id, e.what());
                                      }
                                    });
  spdlog::info("rebuilt catalog state for {} partition(s) from {} record(s) in {} ms; {} title(s) known", partitions.size(), n,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count(),
               state_.size());
}

void SyncHandler::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  std::vector<kafka::TopicPartition> events;
  for (const auto& tp : tps)
    if (tp.topic == topics_.events) events.push_back(tp);
  rebuild(events);
}

void SyncHandler::on_revoked(const std::vector<kafka::TopicPartition>& tps) {
  for (const auto& tp : tps)
    if (tp.topic == topics_.events) state_.drop_partition(tp.partition);
}

void SyncHandler::on_transaction_aborted(const std::vector<kafka::TopicPartition>& tps) {
  // The batch's state changes never became visible in titles: re-read what is committed.
  std::vector<kafka::TopicPartition> all;
  for (const auto& tp : tps) all.push_back({topics_.events, tp.partition});
  rebuild(all);
}

Handled SyncHandler::handle(const kafka::Message& record) {
  if (record.topic() == topics_.requests) return on_request(record);
  return on_event(record);
}

Handled SyncHandler::on_event(const kafka::Message& record) {
  simdjson::dom::element root;
  if (record_parser().parse(*record.value()).get(root)) return Handled::dead_letter("event is not JSON");
  simdjson::dom::element title;
  if (root["title"].get(title)) return Handled::done();  // no snapshot: needs an upstream fetch (not yet)
  const auto doc = catalog::TitleDocument::parse(title);
  const auto change = compare(state_.find(doc.id), doc, util::now_rfc3339());
  if (!change.changed) return Handled::done();
  std::vector<kafka::OutRecord> out;
  const std::string key = std::to_string(doc.id);
  out.push_back({topics_.titles, key, change.merged_json, {}, -1, {}});
  for (const auto& ne : change.new_episodes) out.push_back({topics_.new_episode, key, ne, {}, -1, {}});
  // Visible to the next record of this batch at once; forgotten again if the batch aborts.
  state_.apply(record.partition(), doc.id, change.merged);
  return Handled::done(std::move(out));
}

Handled SyncHandler::on_request(const kafka::Message& record) {
  simdjson::dom::element root;
  if (record_parser().parse(*record.value()).get(root)) return Handled::dead_letter("request is not JSON");
  const std::int64_t id = root["title_id"].get_int64().value_unsafe();
  const std::string_view correlation = root["correlation_id"].get_string().value_unsafe();
  std::string body;
  json::Writer w(body);
  w.begin_object().field("correlation_id", correlation).field("title_id", id);
  if (state_.find(id)) w.field("status", "unchanged").field("new_episodes", 0);
  else w.field("status", "not_found").field("reason", "title not in the catalog");
  w.field("completed_at", util::now_rfc3339()).end_object();
  return Handled::done({{topics_.results, std::string(correlation), body, {}, -1, {}}});
}

}  // namespace anipipe::sync
