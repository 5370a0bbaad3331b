#include "title_fetcher.hpp"

#include <simdjson.h>

#include "upstream/normalizer.hpp"
#include "util/clock.hpp"

namespace anipipe::sync {

namespace {
thread_local upstream::Normalizer t_normalizer;
thread_local simdjson::dom::parser t_parser;
}  // namespace

Fetched interpret_release(std::int64_t id, int status, const std::string& body) {
  const std::string what = "title " + std::to_string(id);
  if (status == 404) return {Fetched::Status::gone, std::nullopt, "the upstream does not have " + what};
  if (status != 200)
    return {Fetched::Status::unavailable, std::nullopt, "the upstream answered HTTP " + std::to_string(status) + " for " + what};
  auto n = t_normalizer.normalize_copy(body, "v1", "/anime/releases/{id}", util::now_rfc3339());
  if (n.status != upstream::Normalized::Status::event)
    return {Fetched::Status::malformed, std::nullopt, "the upstream's release for " + what + " cannot be normalized: " + n.reason};
  if (n.title_id != id)
    return {Fetched::Status::malformed, std::nullopt,
            "asked for " + what + ", the upstream answered with title " + std::to_string(n.title_id)};
  simdjson::dom::element title;
  if (t_parser.parse(n.json)["title"].get(title))
    return {Fetched::Status::malformed, std::nullopt, "the upstream's release for " + what + " carries no title"};
  try {
    return {Fetched::Status::found, catalog::TitleDocument::parse(title), {}};
  } catch (const std::exception& e) {
    return {Fetched::Status::malformed, std::nullopt, "the upstream's release for " + what + ": " + e.what()};
  }
}

TitleFetcher::TitleFetcher(const std::string& base_url, http::ClientOptions options, std::size_t concurrency, prometheus::Registry* metrics)
    : pool_(base_url, std::move(options), concurrency, metrics, "upstream_sync") {}

std::vector<Fetched> TitleFetcher::fetch(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop) {
  std::vector<Fetched> out(ids.size());
  pool_.run(ids.size(), [&](http::Client& client, std::size_t i) {
    const auto id = ids[i];
    if (stop.load()) {
      out[i] = {Fetched::Status::unavailable, std::nullopt, "shutting down"};
      return;
    }
    try {
      const auto r = client.get("/anime/releases/" + std::to_string(id), &stop);
      out[i] = interpret_release(id, r.status, r.body);
    } catch (const std::exception& e) {
      out[i] = {Fetched::Status::unavailable, std::nullopt, e.what()};
    }
  });
  // Say so when the upstream is judged down as a whole, not only that this call failed.
  if (pool_.breaker_state() != http::CircuitBreaker::State::closed)
    for (auto& f : out)
      if (f.status == Fetched::Status::unavailable && f.reason.find("circuit open") == std::string::npos)
        f.reason += " (circuit open after repeated failures)";
  return out;
}

}  // namespace anipipe::sync
