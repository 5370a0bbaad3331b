#include "title_fetcher.hpp"

#include <simdjson.h>

#include "upstream/normalizer.hpp"
#include "util/clock.hpp"

namespace anipipe::sync {

struct TitleFetcher::Slot {
  http::Client client;
  std::uint64_t seen = 0;
  Slot(const std::string& base_url, const http::ClientOptions& o, prometheus::Registry* metrics)
      : client(base_url, o, metrics, "upstream_sync") {}
};

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

TitleFetcher::TitleFetcher(std::string base_url, http::ClientOptions options, std::size_t concurrency,
                           prometheus::Registry* metrics)
    : breaker_(std::make_shared<http::CircuitBreaker>(options.breaker_failures, options.breaker_open_for)) {
  options.shared_breaker = breaker_;
  if (concurrency == 0) concurrency = 1;
  for (std::size_t i = 0; i < concurrency; ++i) slots_.push_back(std::make_unique<Slot>(base_url, options, metrics));
  for (auto& slot : slots_) threads_.emplace_back([this, s = slot.get()] { work(*s); });
}

TitleFetcher::~TitleFetcher() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void TitleFetcher::work(Slot& slot) {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return quit_ || generation_ != slot.seen; });
      if (quit_) return;
      slot.seen = generation_;
      job = job_;
    }
    for (std::size_t i; (i = job->next.fetch_add(1)) < job->ids->size();) {
      const auto id = (*job->ids)[i];
      Fetched& out = (*job->out)[i];
      if (job->stop->load()) {
        out = {Fetched::Status::unavailable, std::nullopt, "shutting down"};
        continue;
      }
      try {
        const auto r = slot.client.get("/anime/releases/" + std::to_string(id), job->stop);
        out = interpret_release(id, r.status, r.body);
      } catch (const std::exception& e) {
        out = {Fetched::Status::unavailable, std::nullopt, e.what()};
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (--busy_ == 0) finished_.notify_all();
    }
  }
}

std::vector<Fetched> TitleFetcher::fetch(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop) {
  std::vector<Fetched> out(ids.size());
  if (ids.empty()) return out;
  Job job;
  job.ids = &ids;
  job.out = &out;
  job.stop = &stop;
  std::unique_lock lock(mutex_);
  job_ = &job;
  busy_ = threads_.size();
  ++generation_;
  wake_.notify_all();
  finished_.wait(lock, [&] { return busy_ == 0; });
  job_ = nullptr;
  // Say so when the upstream is judged down as a whole, not only that this call failed.
  if (breaker_->state() != http::CircuitBreaker::State::closed)
    for (auto& f : out)
      if (f.status == Fetched::Status::unavailable && f.reason.find("circuit open") == std::string::npos)
        f.reason += " (circuit open after repeated failures)";
  return out;
}

}  // namespace anipipe::sync
