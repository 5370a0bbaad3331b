#pragma once
// The ops page's routes, apart from sockets (ops_server): a request in, a response out, every
// answer built by the functions the CLI prints (topic_offsets, list_groups, group_lag,
// read_dead_letters, redrive, read_tail, scrape_freshness). Also the DLQ depth gauges the page's
// process exports, refreshed by reading the DLQ.
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dlq_commands.hpp"
#include "kafka/admin.hpp"
#include "kafka/settings.hpp"
#include "topic_names.hpp"

namespace anipipe::ops {

struct ServeOptions {
  std::string listen = "127.0.0.1:8086";  // port 0: any free port (the log line names it)
  std::string token;
  std::string dlq_topic = topic_names::kDlq;
  std::vector<std::string> metrics_urls;  // the workers' /metrics, for freshness
  RedriveOptions redrive;                 // max_redrives and schemas for re-drives from the page
  std::size_t max_connections = 32;
  std::chrono::seconds dlq_depth_interval{15};  // how often the DLQ is read for /metrics
  std::chrono::seconds admin_timeout{30};
};

struct ApiRequest {
  std::string method, target, body;
};
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class OpsApi {
public:
  OpsApi(const kafka::Settings& kafka, const ServeOptions& options);
  ApiResponse handle(const ApiRequest& request);
  /// Reads the DLQ and sets anipipe_dlq_depth{source_topic} (dead letters not re-driven yet) and
  /// anipipe_dlq_oldest_seconds. Throws if the DLQ cannot be read.
  void refresh_dlq_depth();
  /// /metrics: the gauges, in Prometheus text format.
  std::string metrics_text();

private:
  ApiResponse topics();
  ApiResponse groups();
  ApiResponse group_lag(const std::string& query);
  ApiResponse dead_letters(const std::string& query);
  ApiResponse dead_letter(const std::string& query);
  ApiResponse redrive(const std::string& body);
  ApiResponse tail(const std::string& query);
  ApiResponse freshness();

  kafka::Settings kafka_;
  ServeOptions options_;
  std::mutex admin_mutex_;  // one admin client; its requests are answered on one queue
  kafka::Admin admin_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& depth_;
  prometheus::Gauge& oldest_;
  std::mutex depth_mutex_;
  std::vector<std::string> depth_topics_;  // sources with a depth series, set back to 0 when drained
};

}  // namespace anipipe::ops
