#include "ops_api.hpp"

#include <prometheus/text_serializer.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "freshness_report.hpp"
#include "group_commands.hpp"
#include "http/query.hpp"
#include "json/json_writer.hpp"
#include "ops_page.hpp"
#include "topic_offsets.hpp"
#include "topic_tail.hpp"
#include "util/clock.hpp"

namespace anipipe::ops {

namespace {

ApiResponse json_error(int status, std::string_view code, std::string_view message) {
  ApiResponse r;
  r.status = status;
  json::Writer w(r.body);
  w.begin_object().field("error", code).field("message", message).end_object();
  return r;
}

template <class F>
ApiResponse json_body(F&& write) {
  ApiResponse r;
  json::Writer w(r.body);
  write(w);
  return r;
}

/// A query's parameters by name (the last one wins); nullopt on a malformed escape.
std::optional<std::map<std::string, std::string>> params_of(const std::string& query) {
  auto pairs = http::parse_query(query);
  if (!pairs) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto& [k, v] : *pairs) out[k] = std::move(v);
  return out;
}

std::string param(const std::map<std::string, std::string>& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

/// A count parameter within [1, max]; the default if absent; nullopt if not a number in range.
std::optional<std::size_t> count_param(const std::map<std::string, std::string>& p, const std::string& name, std::size_t fallback,
                                       std::size_t max) {
  const auto text = param(p, name);
  if (text.empty()) return fallback;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > max) return std::nullopt;
  return n;
}

/// The filter of `dlq list` from named values; an error message if one is malformed.
std::optional<std::string> read_filter(const std::map<std::string, std::string>& p, DlqFilter& filter) {
  filter.source_topic = param(p, "source_topic");
  filter.worker = param(p, "worker");
  filter.error_contains = param(p, "error");
  if (const auto since = param(p, "since"); !since.empty()) {
    const auto t = util::parse_rfc3339(since);
    if (!t) return "since must be an RFC 3339 time, not '" + since + "'";
    filter.since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  }
  const auto limit = count_param(p, "limit", 200, 100000);
  if (!limit) return "limit must be a whole number from 1 to 100000";
  filter.limit = *limit;
  if (const auto id = param(p, "id"); !id.empty()) {
    try {
      filter.record = parse_dlq_place(id);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
  }
  return std::nullopt;
}

}  // namespace

OpsApi::OpsApi(const kafka::Settings& kafka, const ServeOptions& options)
    : kafka_(kafka), options_(options), admin_(kafka, options.admin_timeout), registry_(std::make_shared<prometheus::Registry>()),
      depth_(prometheus::BuildGauge()
                 .Name("anipipe_dlq_depth")
                 .Help("Dead letters in the DLQ not re-driven yet, by the topic they came from")
                 .Register(*registry_)),
      oldest_(prometheus::BuildGauge()
                  .Name("anipipe_dlq_oldest_seconds")
                  .Help("Age of the oldest dead letter not re-driven yet (0: none)")
                  .Register(*registry_)
                  .Add({})) {}

ApiResponse OpsApi::handle(const ApiRequest& request) {
  const auto q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? std::string() : request.target.substr(q + 1);
  const bool get = request.method == "GET" || request.method == "HEAD";
  try {
    if (path == "/api/dlq/redrive") {
      if (request.method != "POST") return json_error(405, "method_not_allowed", "POST a JSON body to re-drive");
      return redrive(request.body);
    }
    if (!get) return json_error(405, "method_not_allowed", "only GET here");
    if (path == "/" || path == "/index.html") {
      ApiResponse r;
      r.content_type = "text/html; charset=utf-8";
      r.body = kOpsPage;
      r.headers = {{"Cache-Control", "no-store"},
                   {"Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"}};
      return r;
    }
    if (path == "/favicon.ico") {  // browsers ask for it; no icon, and no 404 in their console
      ApiResponse r;
      r.status = 204;
      r.content_type.clear();
      return r;
    }
    if (path == "/metrics") {
      ApiResponse r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics_text();
      return r;
    }
    if (path == "/api/topics") return topics();
    if (path == "/api/groups") return groups();
    if (path == "/api/groups/lag") return group_lag(query);
    if (path == "/api/dlq") return dead_letters(query);
    if (path == "/api/dlq/record") return dead_letter(query);
    if (path == "/api/tail") return tail(query);
    if (path == "/api/freshness") return freshness();
    return json_error(404, "not_found", "no route " + path);
  } catch (const std::exception& e) {
    // Kafka unreachable, a topic missing: the page shows it and retries on its next refresh.
    return json_error(503, "unavailable", e.what());
  }
}

ApiResponse OpsApi::topics() {
  std::lock_guard lock(admin_mutex_);
  const auto t = topic_offsets(admin_);
  return json_body([&](json::Writer& w) { write_json(w, t); });
}

ApiResponse OpsApi::groups() {
  std::lock_guard lock(admin_mutex_);
  const auto g = list_groups(admin_);
  return json_body([&](json::Writer& w) { write_json(w, g); });
}

ApiResponse OpsApi::group_lag(const std::string& query) {
  const auto p = params_of(query);
  if (!p) return json_error(400, "invalid_query", "a malformed percent-escape in the query string");
  const auto group = param(*p, "group");
  if (group.empty()) return json_error(400, "invalid_query", "group is required");
  std::lock_guard lock(admin_mutex_);
  const auto lag = ops::group_lag(kafka_, admin_, group, {});
  return json_body([&](json::Writer& w) { write_json(w, lag); });
}

ApiResponse OpsApi::dead_letters(const std::string& query) {
  const auto p = params_of(query);
  if (!p) return json_error(400, "invalid_query", "a malformed percent-escape in the query string");
  DlqFilter filter;
  if (auto error = read_filter(*p, filter)) return json_error(400, "invalid_query", *error);
  const auto all = read_dead_letters(kafka_, options_.dlq_topic);
  const auto chosen = select(all, filter);
  return json_body([&](json::Writer& w) {
    w.begin_array();
    for (const auto* d : chosen) write_json(w, *d, false);
    w.end_array();
  });
}

ApiResponse OpsApi::dead_letter(const std::string& query) {
  const auto p = params_of(query);
  if (!p) return json_error(400, "invalid_query", "a malformed percent-escape in the query string");
  std::pair<std::int32_t, std::int64_t> place;
  try {
    place = parse_dlq_place(param(*p, "id"));
  } catch (const std::invalid_argument& e) {
    return json_error(400, "invalid_query", e.what());
  }
  for (const auto& d : read_dead_letters(kafka_, options_.dlq_topic))
    if (d.partition == place.first && d.offset == place.second) return json_body([&](json::Writer& w) { write_json(w, d, true); });
  return json_error(404, "not_found", "no record " + param(*p, "id") + " in " + options_.dlq_topic);
}

ApiResponse OpsApi::redrive(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(body).get(o)) return json_error(400, "invalid_body", "the body must be a JSON object");
  std::map<std::string, std::string> named;
  RedriveOptions options = options_.redrive;
  options.dry_run = true;  // unless the body says otherwise: a POST without a decision changes nothing
  for (auto [k, v] : o) {
    std::string_view s;
    bool b = false;
    if (k == "dry_run" || k == "again") {
      if (v.get_bool().get(b)) return json_error(400, "invalid_body", std::string(k) + " must be true or false");
      (k == "dry_run" ? options.dry_run : options.again) = b;
    } else if (k == "id" || k == "source_topic" || k == "worker" || k == "error" || k == "since" || k == "limit") {
      std::int64_t n = 0;
      if (!v.get_string().get(s)) named[std::string(k)] = std::string(s);
      else if (k == "limit" && !v.get_int64().get(n)) named["limit"] = std::to_string(n);
      else return json_error(400, "invalid_body", std::string(k) + " must be a string");
    } else {
      return json_error(400, "invalid_body", "unknown field " + std::string(k));
    }
  }
  if (named.empty() || (named.size() == 1 && named.count("limit")))
    return json_error(400, "invalid_body", "name what to re-drive: an id (\"P:O\") or a filter (source_topic, worker, error, since)");
  DlqFilter filter;
  if (auto error = read_filter(named, filter)) return json_error(400, "invalid_body", *error);
  if (!named.count("limit")) filter.limit = 0;
  const auto report = ops::redrive(kafka_, options_.dlq_topic, filter, options);
  auto r = json_body([&](json::Writer& w) { write_json(w, report); });
  if (!options.dry_run) {
    try {
      refresh_dlq_depth();
    } catch (const std::exception&) {
      // The next periodic refresh will do.
    }
  }
  return r;
}

ApiResponse OpsApi::tail(const std::string& query) {
  const auto p = params_of(query);
  if (!p) return json_error(400, "invalid_query", "a malformed percent-escape in the query string");
  const auto topic = param(*p, "topic");
  if (topic.empty()) return json_error(400, "invalid_query", "topic is required");
  const auto n = count_param(*p, "n", 50, 500);
  if (!n) return json_error(400, "invalid_query", "n must be a whole number from 1 to 500");
  const auto records = read_tail(kafka_, topic, *n);
  return json_body([&](json::Writer& w) { write_json(w, records); });
}

ApiResponse OpsApi::freshness() {
  const auto report = scrape_freshness(options_.metrics_urls);
  return json_body([&](json::Writer& w) { write_json(w, report); });
}

void OpsApi::refresh_dlq_depth() {
  const auto all = read_dead_letters(kafka_, options_.dlq_topic);
  std::map<std::string, double> depth;
  std::int64_t oldest_ms = -1;
  for (const auto& d : all) {
    if (d.redrive_of || d.redriven > 0) continue;
    depth[d.source_topic] += 1;
    if (d.timestamp_ms > 0 && (oldest_ms < 0 || d.timestamp_ms < oldest_ms)) oldest_ms = d.timestamp_ms;
  }
  std::lock_guard lock(depth_mutex_);
  for (const auto& t : depth_topics_)
    if (!depth.count(t)) depth[t] = 0;  // drained: the series stays, at 0
  depth_topics_.clear();
  for (const auto& [topic, n] : depth) {
    depth_.Add({{"source_topic", topic}}).Set(n);
    depth_topics_.push_back(topic);
  }
  oldest_.Set(oldest_ms < 0 ? 0 : static_cast<double>(util::now_unix_ms() - oldest_ms) / 1000.0);
}

std::string OpsApi::metrics_text() {
  std::lock_guard lock(depth_mutex_);
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace anipipe::ops
