// The edge's reads: title lists, one title (ETag, 304), and a title the catalog lacks (synced on
// the read's behalf, within a budget of misses).
#include <simdjson.h>

#include <variant>

#include "api_support.hpp"
#include "http_api.hpp"
#include "json/json_writer.hpp"
#include "topic_names.hpp"
#include "util/clock.hpp"

namespace anipipe::edge {

using namespace std::chrono_literals;
using namespace api;

namespace {

HttpResponse not_found(std::string_view detail) { return Api::error(404, "not_found", detail); }

/// A read of a missing title that may succeed later: Retry-After is longer when the upstream itself is down.
HttpResponse unavailable(int status, std::string_view code, std::string_view detail) {
  auto r = Api::error(status, code, detail);
  r.headers.emplace_back("Retry-After", status == 503 && code == "upstream_unavailable" ? "5" : "1");
  return r;
}

/// The status field of sync's reply ("changed", "not_found", ...); empty if there was no reply or it is unreadable.
std::string sync_status(const std::optional<std::string>& reply) {
  std::string status;
  if (reply) {
    simdjson::dom::element doc;
    std::string_view s;
    if (!t_parser.parse(*reply).get(doc) && !doc["status"].get(s)) status = s;
  }
  return status;
}

}  // namespace

HttpResponse Api::titles(const HttpRequest& request, std::string_view query_text, bool v1) {
  const auto params = parse_query(query_text);
  if (!params) return error(400, "invalid_query", "a malformed percent-escape in the query string");
  TitleQuery query;
  std::vector<std::string_view> seen;
  for (const auto& [k, v] : *params) {
    // Percent-decoding can make any bytes; what the catalog compares and what errors echo is text.
    if (!json::is_valid_utf8(k) || !json::is_valid_utf8(v))
      return error(400, "invalid_query", "the query string decodes to something that is not UTF-8 (parameter " + k + ")");
    if (std::find(seen.begin(), seen.end(), k) != seen.end()) return error(400, "duplicate_parameter", "parameter " + k + " given twice");
    seen.push_back(k);
    if (k == "page") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1 || *n > 1'000'000) return error(400, "invalid_parameter", "page is an integer from 1");
      query.page = static_cast<std::size_t>(*n);
    } else if (k == "limit") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1 || *n > static_cast<std::int64_t>(settings_.max_limit))
        return error(400, "invalid_parameter", "limit is an integer from 1 to " + std::to_string(settings_.max_limit));
      query.limit = static_cast<std::size_t>(*n);
    } else if (k == "year") {
      auto n = parse_int<std::int64_t>(v);
      if (!n || *n < 1900 || *n > 2100) return error(400, "invalid_parameter", "year is an integer from 1900 to 2100");
      query.year = *n;
    } else if (k == "season") {
      if (v != "winter" && v != "spring" && v != "summer" && v != "autumn")
        return error(400, "invalid_parameter", "season is one of winter, spring, summer, autumn");
      query.season = v;
    } else if (k == "status") {
      if (v.empty() || v.size() > 32 || !std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
        return error(400, "invalid_parameter", "status is a lower-case word, e.g. ongoing or finished");
      query.status = v;
    } else if (k == "genre") {
      if (v.empty() || v.size() > 64) return error(400, "invalid_parameter", "genre is 1 to 64 bytes");
      query.genre = v;
    } else if (k == "q") {
      if (v.empty() || v.size() > 100) return error(400, "invalid_parameter", "q is 1 to 100 bytes");
      query.q = v;
    } else {
      return error(400, "unknown_parameter", "unknown parameter " + k + " (page, limit, genre, year, season, status, q)");
    }
  }
  const auto page = parts_.catalog.list(query);
  std::string body;
  body.reserve(256 + page.items.size() * 2048);
  body += v1 ? R"({"success":true,"data":[)" : R"({"data":[)";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) body += ',';
    body += v1 ? page.items[i]->v1_json : page.items[i]->v2_json;
  }
  body += "],";
  json::Writer w(body);
  w.key("pagination")
      .begin_object()
      .field("page", static_cast<std::uint64_t>(query.page))
      .field("limit", static_cast<std::uint64_t>(query.limit))
      .field("total", static_cast<std::uint64_t>(page.total))
      .field("pages", static_cast<std::uint64_t>((page.total + query.limit - 1) / query.limit))
      .end_object();
  body += '}';
  // The body is a function of its items' versions and the page: hash those (a few hundred bytes)
  // rather than the whole body (tens of KB per request).
  std::string version = v1 ? "v1" : "v2";
  for (const auto& item : page.items) version += item->etag;
  version += std::to_string(page.total) + "/" + std::to_string(query.page) + "/" + std::to_string(query.limit);
  auto etag = strong_etag(version);
  if (etag_matches(request.if_none_match, etag)) {
    HttpResponse r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", std::move(etag));
    return r;
  }
  auto r = json_response(200, std::move(body));
  r.headers.emplace_back("ETag", std::move(etag));
  return r;
}

HttpResponse Api::title(const HttpRequest& request, std::int64_t id, bool v1) {
  auto entry = parts_.catalog.find(id);
  if (entry) {
    ++hits_;
  } else {
    ++misses_;
    auto found = missing_title(request, id);
    if (auto* refused = std::get_if<HttpResponse>(&found)) return std::move(*refused);
    entry = std::get<std::shared_ptr<const CatalogEntry>>(std::move(found));
  }
  const auto& etag = entry->etag;
  if (etag_matches(request.if_none_match, etag)) {
    HttpResponse r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", etag);
    return r;
  }
  auto r = json_response(200, v1 ? R"({"success":true,"data":)" + entry->v1_json + "}" : entry->v2_json);
  r.headers.emplace_back("ETag", etag);
  return r;
}

std::variant<std::shared_ptr<const CatalogEntry>, HttpResponse> Api::missing_title(const HttpRequest& request, std::int64_t id) {
  using Outcome = MissBudget::Outcome;
  using Kind = MissBudget::Ticket::Kind;
  const auto count = [this](std::string_view outcome) {
    if (metrics_) metrics_->miss(outcome);
  };
  const auto started = std::chrono::steady_clock::now();
  // The catalog follows anilibria.titles: a synced title arrives a moment after the reply.
  const auto await_catalog = [&] {
    const auto left = settings_.miss_wait -
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return parts_.catalog.wait_for(id, std::max(left, std::chrono::milliseconds(0)));
  };
  auto ticket = miss_budget_.admit(id, request.client_ip);
  switch (ticket.kind) {
    case Kind::known_missing:
      count("hit_negative");
      return not_found("title " + std::to_string(id) + " does not exist upstream (asked moments ago)");
    case Kind::over_address:
      count("refused");
      return unavailable(429, "too_many_misses", "too many reads of unknown titles from this address at once");
    case Kind::over_total: count("refused"); return unavailable(503, "too_many_misses", "too many reads of unknown titles at once");
    case Kind::follower: {
      count("coalesced");
      const auto outcome = miss_budget_.wait(ticket, settings_.miss_wait);
      if (outcome == Outcome::found)
        if (auto e = await_catalog()) return e;
      if (outcome == Outcome::unavailable)
        return unavailable(503, "upstream_unavailable", "title " + std::to_string(id) + " is not in the catalog and could not be synced");
      return not_found("title " + std::to_string(id) + " is not in the catalog");
    }
    case Kind::leader: break;
  }
  // The leader: ask sync for it and wait briefly (request-reply on sync_results).
  const auto cid = correlation_id();
  auto waiter = parts_.replies.expect(cid);
  std::string value;
  json::Writer(value)
      .begin_object()
      .field("title_id", id)
      .field("force", false)
      .field("priority", "high")
      .field("requested_by", "edge")
      .field("correlation_id", cid)
      .end_object();
  const auto written = parts_.writer.write(settings_.topics.sync_requests, topic_names::kSyncRequests, std::to_string(id), value,
                                           kafka::EventHeaders::new_root("edge", cid));
  if (written.status != WriteOutcome::Status::written) {
    parts_.replies.wait(waiter, 0ms);
    miss_budget_.finish(ticket, Outcome::unavailable);
    count("unavailable");
    return unavailable(503, "unavailable",
                       "title " + std::to_string(id) + " is not in the catalog and a sync could not be requested: " + written.detail);
  }
  const auto reply = parts_.replies.wait(waiter, settings_.miss_wait);
  const std::string status = sync_status(reply);
  if (status == "changed" || status == "unchanged") {
    miss_budget_.finish(ticket, Outcome::found);
    count("synced");
    if (auto e = await_catalog()) return e;
    return not_found("title " + std::to_string(id) + " was synced and is on its way to the catalog; ask again (" + cid + ")");
  }
  if (status == "upstream_unavailable") {
    miss_budget_.finish(ticket, Outcome::unavailable);
    count("unavailable");
    return unavailable(503, "upstream_unavailable",
                       "title " + std::to_string(id) + " is not in the catalog and the upstream is unavailable");
  }
  if (status == "not_found") {
    miss_budget_.finish(ticket, Outcome::not_found);  // remembered: the next read is answered at once
    count("not_found");
    return not_found("title " + std::to_string(id) + " does not exist upstream");
  }
  miss_budget_.finish(ticket, Outcome::unavailable);
  count("unavailable");
  return not_found("title " + std::to_string(id) + " is not in the catalog; a sync was requested (" + cid + ")");
}

}  // namespace anipipe::edge
