#include "sync_handler.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <set>

#include "catalog/title_document.hpp"
#include "json/json_writer.hpp"
#include "kafka/event_headers.hpp"
#include "kafka/topic_reader.hpp"
#include "title_change.hpp"
#include "util/clock.hpp"

namespace anipipe::sync {

using runtime::Handled;
using Clock = std::chrono::steady_clock;

namespace {
// One parser for every record (a parser allocates its buffers; a new one per record would too).
simdjson::dom::parser& record_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

/// Event kinds that say a title changed without carrying it: the full title must be fetched.
/// "reconcile" is the sweep's: look at this title again, whatever changed.
bool kind_needs_fetch(std::string_view kind) {
  return kind == "episode_published" || kind == "playlist_update" || kind == "title_update" || kind == "encode_end" ||
         kind == "encode_finish" || kind == "title_removed" || kind == "reconcile";
}

std::string result_json(std::string_view correlation, std::optional<std::int64_t> id, std::string_view status, std::string_view reason,
                        std::optional<std::size_t> new_episodes) {
  std::string body;
  json::Writer w(body);
  w.begin_object().field("correlation_id", correlation);
  if (id) w.field("title_id", *id);
  w.field("status", status);
  if (!reason.empty()) w.field("reason", reason);
  if (new_episodes) w.field("new_episodes", static_cast<std::int64_t>(*new_episodes));
  w.field("completed_at", util::now_rfc3339()).end_object();
  return body;
}
/// A correlation id longer than this is not answered: lenient (the schema allows 128) but bounded,
/// since a refused record's id is whatever its producer wrote.
constexpr std::size_t kMaxRefusedCorrelation = 1024;

/// Who waits for a refused request and for which title, as far as the record still says: the
/// value's correlation id (results are keyed by it), else the correlation-id header; the value's
/// title id, else the key's. Empty / nullopt when it does not say.
struct RefusedRequest {
  std::string correlation_id;
  std::optional<std::int64_t> title_id;
};

RefusedRequest read_refused(const kafka::Message& record) {
  RefusedRequest r;
  simdjson::dom::element root;
  if (const auto value = record.value(); value && !record_parser().parse(*value).get(root)) {
    std::string_view correlation;
    if (!root["correlation_id"].get_string().get(correlation)) r.correlation_id = correlation;
    std::int64_t id = 0;
    if (!root["title_id"].get_int64().get(id) && id >= 1 && id <= catalog::kMaxTitleId) r.title_id = id;
  }
  if (r.correlation_id.empty()) r.correlation_id = record.header(kafka::header_names::correlation_id).value_or("");
  if (!r.title_id) r.title_id = catalog::parse_title_id(record.key().value_or(""));
  return r;
}
}  // namespace

SyncHandler::Observed SyncHandler::observe(const kafka::Message& record) {
  Observed o;
  o.request = record.topic() == options_.topics.requests;
  const auto value = record.value();
  simdjson::dom::element root;
  if (!value || record_parser().parse(*value).get(root)) {
    o.error = o.request ? "request is not JSON" : "event is not JSON";
    return o;
  }
  if (root["title_id"].get_int64().get(o.title_id) || o.title_id <= 0) {
    o.error = "no positive integer title_id";
    return o;
  }
  if (o.request) {
    std::string_view correlation;
    if (root["correlation_id"].get_string().get(correlation) || correlation.empty()) {
      o.error = "request without a correlation_id";
      return o;
    }
    o.correlation_id = correlation;
    bool force = false;
    if (!root["force"].get_bool().get(force)) o.force = force;
    return o;
  }
  std::string_view kind;
  if (!root["kind"].get_string().get(kind)) o.kind = kind;
  bool complete = false;
  if (!root["episodes_complete"].get_bool().get(complete)) o.complete = complete;
  simdjson::dom::element title;
  if (root["title"].get(title)) return o;
  try {
    o.snapshot = catalog::TitleDocument::parse(title);
  } catch (const std::exception& e) {
    o.error = std::string("unreadable title snapshot: ") + e.what();
  }
  return o;
}

SyncHandler::Observed SyncHandler::take_observed(const kafka::Message& record) {
  const ObservedKey key{record.topic() == options_.topics.requests, record.partition(), record.offset()};
  if (auto it = observed_.find(key); it != observed_.end()) {
    auto o = std::move(it->second);
    observed_.erase(it);
    return o;
  }
  return observe(record);
}

bool SyncHandler::needs_fetch(const Observed& o) const {
  if (!o.error.empty()) return false;
  if (o.request) return o.force || !fresh(o.title_id);
  if (o.snapshot) return !o.complete && may_hide_changes(state_.find(o.title_id), *o.snapshot);
  return kind_needs_fetch(o.kind);
}

bool SyncHandler::fresh(std::int64_t id) const {
  auto it = fetched_at_.find(id);
  return it != fetched_at_.end() && Clock::now() - it->second < options_.fresh_for;
}

void SyncHandler::prepare_batch(const std::vector<kafka::Message>& batch) {
  fetched_.clear();
  observed_.clear();
  std::vector<std::int64_t> ids;
  std::set<std::int64_t> seen;
  for (const auto& record : batch) {
    // Parsed once here; handle() takes the result instead of parsing the record again.
    auto o = observe(record);
    if (needs_fetch(o) && seen.insert(o.title_id).second) ids.push_back(o.title_id);
    ObservedKey key{o.request, record.partition(), record.offset()};
    observed_.insert_or_assign(std::move(key), std::move(o));
  }
  if (ids.empty()) return;
  const auto started = Clock::now();
  auto results = fetcher_.fetch(ids, stop_);
  std::size_t found = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto s = results[i].status;
    if (s == Fetched::Status::found || s == Fetched::Status::gone) fetched_at_[ids[i]] = Clock::now();
    found += s == Fetched::Status::found;
    fetched_.emplace(ids[i], std::move(results[i]));
  }
  // Bounded: entries older than fresh_for answer nothing anyway.
  if (fetched_at_.size() > 1'000'000)
    std::erase_if(fetched_at_, [&](const auto& e) { return Clock::now() - e.second >= options_.fresh_for; });
  spdlog::debug("fetched {} title(s) from the upstream in {} ms ({} found)", ids.size(),
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(), found);
}

void SyncHandler::rebuild(const std::vector<kafka::TopicPartition>& tps) {
  std::set<std::int32_t> partitions;
  for (const auto& tp : tps) partitions.insert(tp.partition);
  for (auto p : partitions) state_.drop_partition(p);
  if (partitions.empty()) return;
  const auto started = Clock::now();
  const auto n = kafka::read_to_end(kafka_, options_.topics.titles, {partitions.begin(), partitions.end()},
                                    kafka::ReadStart::from_earliest(), [&](const kafka::Message& m) {
                                      auto key = m.key();
                                      if (!key) return;
                                      const auto id = std::strtoll(std::string(*key).c_str(), nullptr, 10);
                                      auto v = m.value();
                                      if (!v) return state_.apply(m.partition(), id, std::nullopt);
                                      try {
                                        state_.apply(m.partition(), id, catalog::TitleDocument::parse(*v));
                                      } catch (const std::exception& e) {
                                        spdlog::warn("skipping unreadable {} record {}: {}", options_.topics.titles, id, e.what());
                                      }
                                    });
  spdlog::info("rebuilt catalog state for {} partition(s) from {} record(s) in {} ms; {} title(s) known", partitions.size(), n,
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(), state_.size());
}

void SyncHandler::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  std::vector<kafka::TopicPartition> events;
  for (const auto& tp : tps)
    if (tp.topic == options_.topics.events) events.push_back(tp);
  rebuild(events);
}

void SyncHandler::on_revoked(const std::vector<kafka::TopicPartition>& tps) {
  for (const auto& tp : tps)
    if (tp.topic == options_.topics.events) state_.drop_partition(tp.partition);
}

void SyncHandler::on_transaction_aborted(const std::vector<kafka::TopicPartition>& tps) {
  // The batch's state changes never became visible in titles: re-read what is committed.
  std::vector<kafka::TopicPartition> all;
  all.reserve(tps.size());
  for (const auto& tp : tps) all.push_back({options_.topics.events, tp.partition});
  rebuild(all);
}

Handled SyncHandler::handle(const kafka::Message& record) {
  const auto o = take_observed(record);
  if (!o.error.empty()) return Handled::dead_letter(o.error);
  return o.request ? on_request(record, o) : on_event(record, o);
}

std::vector<kafka::OutRecord> SyncHandler::on_dead_letter(const kafka::Message& record, std::string_view reason) {
  if (record.topic() != options_.topics.requests) return {};  // events: nobody waits for them
  auto r = read_refused(record);
  if (r.correlation_id.empty() || r.correlation_id.size() > kMaxRefusedCorrelation) return {};  // nobody to answer
  auto value = result_json(r.correlation_id, r.title_id, "rejected", reason, std::nullopt);
  std::vector<kafka::OutRecord> out;
  out.push_back({options_.topics.results, std::move(r.correlation_id), std::move(value), {}, -1, {}});
  return out;
}

int SyncHandler::priority_lane(const kafka::Message& record) {
  simdjson::dom::element root;
  std::string_view priority;
  const auto value = record.value();
  if (!value || record_parser().parse(*value).get(root) || root["priority"].get_string().get(priority)) return 1;
  return priority == "high" ? 2 : priority == "low" ? 0 : 1;
}

bool SyncHandler::apply_title(std::int32_t partition, const catalog::TitleDocument& doc, bool republish, std::vector<kafka::OutRecord>& out,
                              std::size_t* new_episodes, bool announce) {
  const auto* known = state_.find(doc.id);
  auto change = compare(known, doc, util::now_rfc3339(), announce);
  if (new_episodes) *new_episodes = change.new_episodes.size();
  const std::string key = std::to_string(doc.id);
  if (!change.changed) {
    if (republish && known) out.push_back({options_.topics.titles, key, known->to_json(), {}, -1, {}});
    return false;
  }
  out.push_back({options_.topics.titles, key, std::move(change.merged_json), {}, -1, {}});
  for (auto& ne : change.new_episodes) out.push_back({options_.topics.new_episode, key, std::move(ne), {}, -1, {}});
  // Visible to the next record of this batch at once; forgotten again if the batch aborts.
  state_.apply(partition, doc.id, std::move(change.merged));
  return true;
}

bool SyncHandler::remove_title(std::int32_t partition, std::int64_t id, std::vector<kafka::OutRecord>& out) {
  if (!state_.find(id)) return false;
  out.push_back({options_.topics.titles, std::to_string(id), std::nullopt, {}, -1, {}});
  state_.apply(partition, id, std::nullopt);
  return true;
}

Handled SyncHandler::on_event(const kafka::Message& record, const Observed& o) {
  if (o.snapshot && !needs_fetch(o)) {
    std::vector<kafka::OutRecord> out;
    apply_title(record.partition(), *o.snapshot, false, out, nullptr);
    return Handled::done(std::move(out));
  }
  if (!o.snapshot && !kind_needs_fetch(o.kind)) return Handled::done();  // encode progress, torrents: nothing in the catalog changes
  return apply_fetched(record, o);
}

Handled SyncHandler::apply_fetched(const kafka::Message& record, const Observed& o) {
  auto it = fetched_.find(o.title_id);
  if (it == fetched_.end()) return Handled::retry_later("title " + std::to_string(o.title_id) + " was not fetched");
  const Fetched& f = it->second;
  std::vector<kafka::OutRecord> out;
  switch (f.status) {
    case Fetched::Status::found: {
      // A title the sweep finds that the catalog never had: its history is not news.
      const bool announce = o.kind != "reconcile" || state_.find(o.title_id);
      apply_title(record.partition(), o.snapshot ? with_observation(*f.title, *o.snapshot) : *f.title, false, out, nullptr, announce);
      break;
    }
    case Fetched::Status::gone: remove_title(record.partition(), o.title_id, out); break;
    case Fetched::Status::unavailable: return Handled::retry_later(f.reason);
    case Fetched::Status::malformed:
      if (!o.snapshot) return Handled::dead_letter(f.reason);
      // What the observation itself says still stands; the sweep repairs the rest later.
      spdlog::warn("{}; taking the observed snapshot of title {} as it is", f.reason, o.title_id);
      apply_title(record.partition(), *o.snapshot, false, out, nullptr);
      break;
  }
  return Handled::done(std::move(out));
}

Handled SyncHandler::on_request(const kafka::Message& record, const Observed& o) {
  std::vector<kafka::OutRecord> out;
  auto answer = [&](std::string_view status, std::string_view reason, std::optional<std::size_t> new_episodes = std::nullopt) {
    out.push_back(
        {options_.topics.results, o.correlation_id, result_json(o.correlation_id, o.title_id, status, reason, new_episodes), {}, -1, {}});
    return Handled::done(std::move(out));
  };
  auto it = fetched_.find(o.title_id);
  if (it == fetched_.end()) {
    // Not fetched because it was fetched recently (an earlier batch): the catalog is that answer.
    if (!o.force && fresh(o.title_id)) {
      if (state_.find(o.title_id)) return answer("unchanged", "fetched from the upstream moments ago", 0);
      return answer("not_found", "the upstream did not have this title moments ago");
    }
    return Handled::retry_later("title " + std::to_string(o.title_id) + " was not fetched");
  }
  const Fetched& f = it->second;
  switch (f.status) {
    case Fetched::Status::found: {
      std::size_t added = 0;
      const bool changed = apply_title(record.partition(), *f.title, o.force, out, &added);
      return answer(changed ? "changed" : "unchanged", o.force && !changed ? "forced: re-published unchanged" : "", added);
    }
    case Fetched::Status::gone:
      if (remove_title(record.partition(), o.title_id, out))
        return answer("not_found", "the upstream no longer has this title: removed from the catalog");
      return answer("not_found", f.reason);
    case Fetched::Status::malformed: return answer("upstream_unavailable", f.reason);
    case Fetched::Status::unavailable: break;
  }
  // The wait counts from the request's publication (its timestamp), or from the first attempt.
  std::chrono::milliseconds age;
  if (const auto published_ms = record.timestamp_ms(); published_ms >= 0) {
    age = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()) -
          std::chrono::milliseconds(published_ms);
  } else {
    const auto first = first_attempt_.try_emplace(o.correlation_id, Clock::now()).first->second;
    age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - first);
  }
  if (age < options_.request_wait) return Handled::retry_later(f.reason);
  first_attempt_.erase(o.correlation_id);
  return answer("upstream_unavailable",
                f.reason + (state_.find(o.title_id) ? "; the catalog's copy stands" : "; the catalog does not have this title"));
}

}  // namespace anipipe::sync
