#include "v1_poller.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

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

}  // namespace

bool V1Poller::poll_once(const std::atomic<bool>& stop) {
  bool ok = poll_endpoint("/anime/releases/latest?limit=" + std::to_string(options_.limit), "/anime/releases/latest", stop);
  if (options_.schedule && !stop.load()) ok = poll_endpoint("/anime/schedule/now", "/anime/schedule/now", stop) && ok;
  return ok;
}

bool V1Poller::poll_endpoint(const std::string& target, const char* endpoint, const std::atomic<bool>& stop) {
  const std::string origin = std::string("upstream:") + endpoint;
  http::Response res;
  try {
    res = client_.get(target, &stop);
  } catch (const http::HttpError& e) {
    spdlog::warn("poll of {} failed: {}; trying again next round", endpoint, e.what());
    return false;
  }
  if (res.status != 200) {
    spdlog::warn("poll of {}: HTTP {}; trying again next round", endpoint, res.status);
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(res.body).get(root)) {
    // A broken feed is kept for inspection; the next round re-reads the endpoint, so nothing is lost.
    upstream::Normalized bad;
    bad.reason = std::string("response of ") + endpoint + " is not JSON: " + simdjson::error_message(err);
    publisher_.publish(std::move(bad), res.body, "v1", origin);
    return false;
  }
  std::vector<simdjson::dom::element> items;
  collect_items(root, items);
  const std::string observed_at = util::now_rfc3339();
  std::size_t announced_before = publisher_.stats().events;
  for (auto item : items) {
    const std::string text = simdjson::minify(item);
    publisher_.publish(normalizer_.normalize_copy(text, "v1", endpoint, observed_at), text, "v1", origin);
  }
  spdlog::debug("polled {}: {} item(s), {} new event(s)", endpoint, items.size(), publisher_.stats().events - announced_before);
  return true;
}

}  // namespace anipipe::ingest
