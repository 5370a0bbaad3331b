#pragma once
// Freshness per stage, as the workers measure it (anipipe_freshness_seconds{stage}: from ingest's
// observation of an upstream change to its effect landing in the catalog, Redis, a WebSocket push
// or a webhook): their /metrics read, the histograms summed over every process, and quantiles
// estimated the way Prometheus' histogram_quantile does (linear within the bucket). For
// `anipipe-ops freshness` and the ops page, where no Prometheus may be running.
#include <string>
#include <vector>

#include "json/json_writer.hpp"

namespace anipipe::ops {

struct StageFreshness {
  std::string stage;
  double count = 0, sum = 0;
  double p50 = 0, p95 = 0, p99 = 0;                // seconds; 0 when nothing was observed
  std::vector<std::pair<double, double>> buckets;  // cumulative: upper bound, observations at or below
};

/// From Prometheus text expositions (one per process scraped), the histogram per stage.
std::vector<StageFreshness> summarize_freshness(const std::vector<std::string>& expositions);
/// histogram_quantile(q) over cumulative buckets (the last one +Inf).
double bucket_quantile(double q, const std::vector<std::pair<double, double>>& buckets);

struct FreshnessReport {
  std::vector<StageFreshness> stages;
  std::vector<std::string> errors;  // a URL that could not be read, and why
};
/// GETs each /metrics URL (a process that does not answer is reported, not fatal).
FreshnessReport scrape_freshness(const std::vector<std::string>& metrics_urls);
void write_json(json::Writer& w, const FreshnessReport& report);
int print_freshness(const std::vector<std::string>& metrics_urls, bool json);

}  // namespace anipipe::ops
