#include "reconcile_sweep.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <set>
#include <stdexcept>
#include <thread>

#include "catalog/title_document.hpp"
#include "catalog_page.hpp"
#include "kafka/topic_reader.hpp"
#include "util/clock.hpp"

namespace anipipe::ingest {

std::chrono::milliseconds parse_interval(const std::string& text) {
  double n = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc{} || n < 0) throw std::invalid_argument("not an interval: '" + text + "' (e.g. 6h, 30m, 90s, 0)");
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  double ms = 0;
  if (unit.empty() || unit == "s") ms = n * 1000;
  else if (unit == "ms") ms = n;
  else if (unit == "m") ms = n * 60'000;
  else if (unit == "h") ms = n * 3'600'000;
  else if (unit == "d") ms = n * 86'400'000;
  else throw std::invalid_argument("not an interval: '" + text + "' (units: ms, s, m, h, d)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::string SweepResult::to_json() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"sweep":"%s","complete":%s,"pages":%d,"upstream_titles":%zu,"catalog_only":%zu,"published":%zu,"seconds":%.3f%s%s%s})",
                sweep_id.c_str(), complete ? "true" : "false", pages, upstream_titles, catalog_only, published, seconds,
                error.empty() ? "" : R"(,"error":")", error.empty() ? "" : error.c_str(), error.empty() ? "" : "\"");
  return buf;
}

ReconcileSweep::ReconcileSweep(SweepOptions options, http::Client& client, EventPublisher& publisher, kafka::Settings kafka,
                               prometheus::Registry* metrics)
    : options_(std::move(options)), client_(client), publisher_(publisher), kafka_(std::move(kafka)) {
  if (!metrics) return;
  auto& titles = prometheus::BuildCounter()
                     .Name("anipipe_ingest_sweep_titles_total")
                     .Help("Titles observed by reconciliation sweeps (met upstream, or only in the catalog)")
                     .Register(*metrics);
  upstream_titles_ = &titles.Add({{"where", "upstream"}});
  catalog_only_titles_ = &titles.Add({{"where", "catalog_only"}});
  auto& sweeps = prometheus::BuildCounter().Name("anipipe_ingest_sweeps_total").Help("Reconciliation sweeps by outcome").Register(*metrics);
  complete_ = &sweeps.Add({{"outcome", "complete"}});
  incomplete_ = &sweeps.Add({{"outcome", "incomplete"}});
  last_complete_ = &prometheus::BuildGauge()
                        .Name("anipipe_ingest_sweep_last_complete_seconds")
                        .Help("When the last complete sweep ended (unix seconds)")
                        .Register(*metrics)
                        .Add({});
}

std::string ReconcileSweep::new_sweep_id(const std::string& who) { return util::now_rfc3339() + "/" + who; }

void ReconcileSweep::observe(std::int64_t id, const std::string& sweep_id, SweepResult& r, const std::atomic<bool>& stop) {
  // Paced: every observation costs sync one call to the upstream.
  if (options_.titles_per_second > 0) {
    for (auto now = std::chrono::steady_clock::now(); now < next_at_ && !stop.load(); now = std::chrono::steady_clock::now())
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(next_at_ - now, std::chrono::milliseconds(100)));
    next_at_ = std::max(std::chrono::steady_clock::now(), next_at_) +
               std::chrono::microseconds(static_cast<std::int64_t>(1e6 / options_.titles_per_second));
  }
  upstream::UpstreamEvent e;
  e.kind = "reconcile";
  e.title_id = id;
  e.generation = "v1";
  e.api = "v1";
  e.endpoint = "/anime/catalog/releases";
  e.sweep = sweep_id;
  upstream::Normalized n;
  n.status = upstream::Normalized::Status::event;
  n.title_id = id;
  n.kind = "reconcile";
  upstream::serialize_event(e, util::now_rfc3339(), n.json);
  publisher_.publish(n, {}, "sweep", "sweep:" + sweep_id);
  ++r.published;
}

SweepResult ReconcileSweep::run(const std::atomic<bool>& stop) {
  SweepResult r;
  r.sweep_id = new_sweep_id(options_.who);
  const auto started = std::chrono::steady_clock::now();
  spdlog::info("reconciliation sweep {}: walking /anime/catalog/releases oldest first at up to {} title(s)/s", r.sweep_id,
               options_.titles_per_second);
  std::set<std::int64_t> met;
  for (int page = 1; !stop.load(); ++page) {
    if (page > options_.max_pages) {
      r.error = "stopped at " + std::to_string(options_.max_pages) + " pages";
      break;
    }
    auto p = fetch_catalog_page(client_, page, options_.page_size, "FRESH_AT_ASC", &stop);
    if (!p.ok) {
      r.error = "page " + std::to_string(page) + ": " + p.error;
      break;
    }
    ++r.pages;
    for (const auto& item : p.items) {
      if (item.id < 1 || !met.insert(item.id).second) continue;  // met again after a refresh moved it
      ++r.upstream_titles;
      observe(item.id, r.sweep_id, r, stop);
      if (stop.load()) break;
    }
    if (p.last) {
      r.complete = true;
      break;
    }
  }
  if (r.complete && !options_.titles_topic.empty() && !stop.load()) {
    // Titles the catalog has and the upstream no longer lists: sync's fetch decides (404: removed).
    std::set<std::int64_t> catalog;
    try {
      kafka::read_to_end(kafka_, options_.titles_topic, {}, kafka::ReadStart::from_earliest(), [&](const kafka::Message& m) {
        const auto id = m.key() ? catalog::parse_title_id(*m.key()) : std::nullopt;
        if (!id) return;
        if (m.value()) catalog.insert(*id);
        else catalog.erase(*id);
      });
      for (auto id : catalog) {
        if (met.count(id) || stop.load()) continue;
        ++r.catalog_only;
        observe(id, r.sweep_id, r, stop);
      }
    } catch (const std::exception& e) {
      r.error = std::string("reading ") + options_.titles_topic + ": " + e.what();
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stop.load() && r.error.empty()) r.error = "stopped";
  const bool done = r.complete && r.error.empty();
  if (complete_) {
    upstream_titles_->Increment(static_cast<double>(r.upstream_titles));
    catalog_only_titles_->Increment(static_cast<double>(r.catalog_only));
    (done ? complete_ : incomplete_)->Increment();
    if (done) last_complete_->SetToCurrentTime();
  }
  if (done) spdlog::info("reconciliation sweep done: {}", r.to_json());
  else spdlog::warn("reconciliation sweep incomplete: {}", r.to_json());
  return r;
}

SweepResult ReconcileSweep::run_titles(const std::vector<std::int64_t>& ids, const std::atomic<bool>& stop) {
  SweepResult r;
  r.sweep_id = new_sweep_id(options_.who);
  const auto started = std::chrono::steady_clock::now();
  for (auto id : ids) {
    if (stop.load()) break;
    observe(id, r.sweep_id, r, stop);
  }
  r.complete = !stop.load();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace anipipe::ingest
