#include "v1_poller.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "catalog_page.hpp"
#include "util/clock.hpp"

namespace anipipe::ingest {
namespace {

/// The items of a response: a bare array, {"data": [...]} (the OpenAPI's wrapper), or for the
/// schedule {"today": [...], "tomorrow": [...], "yesterday": [...]}.
void collect_items(simdjson::dom::element root, std::vector<simdjson::dom::element>& out) {
  simdjson::dom::array arr;
  if (!root.get_array().get(arr)) {
    for (auto e : arr) out.push_back(e);
    return;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return;
  for (const char* key : {"data", "today", "tomorrow", "yesterday"}) {
    simdjson::dom::array items;
    if (!obj[key].get_array().get(items))
      for (auto e : items) out.push_back(e);
  }
}

/// A schedule item's freshness is its release's.
simdjson::dom::element release_of(simdjson::dom::element item) {
  simdjson::dom::element release;
  return item["release"].get(release) ? item : release;
}

double unix_seconds(HighWaterMark::Time t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

}  // namespace

V1Poller::V1Poller(V1PollerOptions options, http::Client& client, upstream::Normalizer& normalizer, EventPublisher& publisher,
                   HighWaterMark& mark, prometheus::Registry& metrics)
    : options_(options), client_(client), normalizer_(normalizer), publisher_(publisher), mark_(mark),
      catchups_(prometheus::BuildCounter()
                    .Name("anipipe_ingest_catchups_total")
                    .Help("Catch-ups to the high-water mark, by outcome (reached, page_limit, failed)")
                    .Register(metrics)),
      catchup_pages_(prometheus::BuildCounter()
                         .Name("anipipe_ingest_catchup_pages_total")
                         .Help("Catalog pages read while catching up")
                         .Register(metrics)
                         .Add({})),
      mark_gauge_(prometheus::BuildGauge()
                      .Name("anipipe_ingest_high_water_mark_seconds")
                      .Help("The newest fresh_at published (unix seconds): how far ingest's view of the upstream reaches")
                      .Register(metrics)
                      .Add({})) {
  // At start ingest may have been down for any length of time: catch up on what it missed.
  if (mark_.get()) owe_catch_up("start");
  else spdlog::info("no high-water mark yet (nothing published from v1 polls): watching from now");
  if (auto m = mark_.get()) mark_gauge_.Set(unix_seconds(*m));
}

void V1Poller::owe_catch_up(const char* why) {
  if (!catch_up_owed_) catch_up_owed_ = why;
}

bool V1Poller::poll_once(const std::atomic<bool>& stop) {
  seen_newest_.reset();
  const auto latest = poll_endpoint("/anime/releases/latest?limit=" + std::to_string(options_.limit), "/anime/releases/latest", stop);
  bool ok = latest.ok;
  // A full page that reaches no further back than the mark: more may have changed than one page
  // shows. Ties count (freshness has whole seconds; many releases refreshed in the same second
  // as the mark may lie beyond the page): only a page that ends below the mark proves that
  // everything after it was seen.
  if (latest.ok && mark_.get() && latest.items >= static_cast<std::size_t>(options_.limit) && latest.oldest &&
      *latest.oldest >= *mark_.get())
    owe_catch_up("a whole page at or newer than the high-water mark");
  if (options_.schedule && !stop.load()) ok = poll_endpoint("/anime/schedule/now", "/anime/schedule/now", stop).ok && ok;
  if (!ok) owe_catch_up("a poll failed");
  if (ok && catch_up_owed_ && !stop.load() && !catch_up(stop)) return false;
  // The mark moves only once nothing is owed: a catch-up still to come must page back to where
  // ingest's view really ended, not to what this round saw.
  if (!catch_up_owed_) {
    mark_.observe(seen_newest_);
    if (auto m = mark_.get()) mark_gauge_.Set(unix_seconds(*m));
  }
  return ok;
}

V1Poller::Seen V1Poller::poll_endpoint(const std::string& target, const char* endpoint, const std::atomic<bool>& stop) {
  Seen seen;
  const std::string origin = std::string("upstream:") + endpoint;
  http::Response res;
  try {
    res = client_.get(target, &stop);
  } catch (const http::HttpError& e) {
    spdlog::warn("poll of {} failed: {}; trying again next round", endpoint, e.what());
    return seen;
  }
  if (res.status != 200) {
    spdlog::warn("poll of {}: HTTP {}; trying again next round", endpoint, res.status);
    return seen;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(res.body).get(root)) {
    // A broken feed is kept for inspection; the next round re-reads the endpoint, so nothing is lost.
    upstream::Normalized bad;
    bad.reason = std::string("response of ") + endpoint + " is not JSON: " + simdjson::error_message(err);
    publisher_.publish(bad, res.body, "v1", origin);
    return seen;
  }
  std::vector<simdjson::dom::element> items;
  collect_items(root, items);
  const std::string observed_at = util::now_rfc3339();
  std::size_t announced_before = publisher_.stats().events;
  for (auto item : items) {
    if (auto f = HighWaterMark::freshness_of(release_of(item))) {
      if (!seen.newest || *f > *seen.newest) seen.newest = f;
      if (!seen.oldest || *f < *seen.oldest) seen.oldest = f;
    }
    const std::string text = simdjson::minify(item);
    publisher_.publish(normalizer_.normalize_copy(text, "v1", endpoint, observed_at), text, "v1", origin);
  }
  if (seen.newest && (!seen_newest_ || *seen.newest > *seen_newest_)) seen_newest_ = seen.newest;
  seen.items = items.size();
  seen.ok = true;
  spdlog::debug("polled {}: {} item(s), {} new event(s)", endpoint, items.size(), publisher_.stats().events - announced_before);
  return seen;
}

bool V1Poller::catch_up(const std::atomic<bool>& stop) {
  const auto mark = mark_.get();
  if (!mark) {
    catch_up_owed_ = nullptr;
    return true;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::size_t events_before = publisher_.stats().events;
  spdlog::debug("catching up to the high-water mark {} ({}): paging /anime/catalog/releases newest first", mark_.to_string(),
                catch_up_owed_);
  const char* endpoint = "/anime/catalog/releases";
  const std::string origin = std::string("upstream:") + endpoint;
  int pages = 0;
  std::size_t newer = 0;
  for (int page = 1; !stop.load(); ++page) {
    if (page > options_.catchup_max_pages) {
      spdlog::warn("catch-up stopped at --catchup-max-pages {} before reaching the mark; the reconciliation sweep repairs "
                   "what lies beyond",
                   options_.catchup_max_pages);
      catchups_.Add({{"outcome", "page_limit"}}).Increment();
      break;
    }
    auto p = fetch_catalog_page(client_, page, options_.catchup_page_size, "FRESH_AT_DESC", &stop);
    if (!p.ok) {
      if (!p.malformed_body.empty()) {
        // Kept for inspection, as a broken poll is; the catch-up starts again next round.
        upstream::Normalized bad;
        bad.reason = "page " + std::to_string(page) + " of " + endpoint + ": " + p.error;
        publisher_.publish(bad, p.malformed_body, "v1", origin);
      }
      spdlog::warn("catch-up: page {} of {} failed ({}); it starts again next round", page, endpoint, p.error);
      catchups_.Add({{"outcome", "failed"}}).Increment();
      return false;
    }
    ++pages;
    catchup_pages_.Increment();
    const std::string observed_at = util::now_rfc3339();
    bool reached = false;
    for (const auto& item : p.items) {
      // Ties with the mark are published too (the dedupe drops what was announced already).
      if (item.freshness && *item.freshness < *mark) {
        reached = true;
        continue;
      }
      ++newer;
      if (item.freshness && (!seen_newest_ || *item.freshness > *seen_newest_)) seen_newest_ = item.freshness;
      publisher_.publish(normalizer_.normalize_copy(item.json, "v1", endpoint, observed_at), item.json, "v1", origin);
    }
    if (reached || p.last) {
      catchups_.Add({{"outcome", "reached"}}).Increment();
      break;
    }
  }
  if (stop.load()) return false;
  // A page tied at the mark is looked at again every poll until a newer release tops it; say
  // only what found something.
  const auto found = publisher_.stats().events - events_before;
  spdlog::log(found > 0 ? spdlog::level::info : spdlog::level::debug,
              "caught up to the high-water mark {} ({}): {} page(s), {} release(s) at or newer than the mark, {} new event(s) in {} ms",
              mark_.to_string(), catch_up_owed_, pages, newer, found,
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  catch_up_owed_ = nullptr;
  return true;
}

}  // namespace anipipe::ingest
