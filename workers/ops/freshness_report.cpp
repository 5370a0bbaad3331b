#include "freshness_report.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "http/client.hpp"
#include "print_json.hpp"

namespace anipipe::ops {

namespace {

constexpr std::string_view kName = "anipipe_freshness_seconds";

/// The value of label `name` in `{a="x",b="y"}` (quotes and backslashes unescaped).
std::string label(std::string_view labels, std::string_view name) {
  const std::string needle = std::string(name) + "=\"";
  for (std::size_t at = labels.find(needle); at != std::string_view::npos; at = labels.find(needle, at + 1)) {
    if (at != 0 && labels[at - 1] != '{' && labels[at - 1] != ',') continue;
    std::string out;
    for (std::size_t i = at + needle.size(); i < labels.size(); ++i) {
      if (labels[i] == '\\' && i + 1 < labels.size()) {
        out.push_back(labels[++i] == 'n' ? '\n' : labels[i]);
      } else if (labels[i] == '"') {
        return out;
      } else {
        out.push_back(labels[i]);
      }
    }
  }
  return {};
}

double number(std::string_view s) {
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  return std::strtod(std::string(s).c_str(), nullptr);
}

}  // namespace

double bucket_quantile(double q, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty()) return 0;
  const double total = buckets.back().second;
  if (total <= 0) return 0;
  const double rank = q * total;
  double lower = 0, below = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) return lower;  // in the open-ended bucket: its lower bound, as Prometheus does
      return count == below ? le : lower + (le - lower) * (rank - below) / (count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}

std::vector<StageFreshness> summarize_freshness(const std::vector<std::string>& expositions) {
  std::map<std::string, std::map<double, double>> buckets;  // stage -> le -> cumulative count
  std::map<std::string, StageFreshness> stages;
  for (const auto& text : expositions) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.starts_with(kName)) continue;
      const std::string_view l(line);
      const auto open = l.find('{'), close = l.rfind('}');
      if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
      const std::string_view suffix = l.substr(kName.size(), open - kName.size());
      const std::string_view labels = l.substr(open, close - open + 1);
      std::string_view rest = l.substr(close + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const double value = number(rest.substr(0, rest.find(' ')));
      const auto stage = label(labels, "stage");
      if (stage.empty()) continue;
      auto& s = stages[stage];
      s.stage = stage;
      if (suffix == "_bucket") buckets[stage][number(label(labels, "le"))] += value;
      else if (suffix == "_sum") s.sum += value;
      else if (suffix == "_count") s.count += value;
    }
  }
  std::vector<StageFreshness> out;
  for (auto& [stage, s] : stages) {
    for (const auto& [le, count] : buckets[stage]) s.buckets.emplace_back(le, count);
    s.p50 = bucket_quantile(0.50, s.buckets);
    s.p95 = bucket_quantile(0.95, s.buckets);
    s.p99 = bucket_quantile(0.99, s.buckets);
    out.push_back(std::move(s));
  }
  return out;
}

FreshnessReport scrape_freshness(const std::vector<std::string>& metrics_urls) {
  FreshnessReport report;
  std::vector<std::string> texts;
  for (const auto& url : metrics_urls) {
    try {
      http::ClientOptions o;
      o.connect_timeout = std::chrono::milliseconds(2000);
      o.request_timeout = std::chrono::milliseconds(3000);
      o.max_retries = 0;
      http::Client client(url, o, nullptr, "metrics");
      const auto r = client.get(http::Url::parse(url).path.empty() ? "/metrics" : "");
      if (r.status != 200) report.errors.push_back(url + ": HTTP " + std::to_string(r.status));
      else texts.push_back(r.body);
    } catch (const std::exception& e) {
      report.errors.push_back(url + ": " + e.what());
    }
  }
  report.stages = summarize_freshness(texts);
  return report;
}

void write_json(json::Writer& w, const FreshnessReport& report) {
  w.begin_object().key("stages").begin_array();
  for (const auto& s : report.stages)
    w.begin_object()
        .field("stage", s.stage)
        .field("count", static_cast<std::int64_t>(s.count))
        .field("mean_seconds", s.count > 0 ? s.sum / s.count : 0.0)
        .field("p50_seconds", s.p50)
        .field("p95_seconds", s.p95)
        .field("p99_seconds", s.p99)
        .end_object();
  w.end_array().key("errors").begin_array();
  for (const auto& e : report.errors) w.value(e);
  w.end_array().end_object();
}

int print_freshness(const std::vector<std::string>& metrics_urls, bool json) {
  const auto report = scrape_freshness(metrics_urls);
  if (json) {
    print_json(report);
  } else {
    std::printf("%-12s %10s %10s %10s %10s %10s\n", "stage", "effects", "mean_s", "p50_s", "p95_s", "p99_s");
    for (const auto& s : report.stages)
      std::printf("%-12s %10.0f %10.3f %10.3f %10.3f %10.3f\n", s.stage.c_str(), s.count, s.count > 0 ? s.sum / s.count : 0.0, s.p50, s.p95,
                  s.p99);
    for (const auto& e : report.errors) std::fprintf(stderr, "not read: %s\n", e.c_str());
  }
  return report.errors.empty() ? 0 : 1;
}

}  // namespace anipipe::ops
