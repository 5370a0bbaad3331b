#pragma once
// Command-line and environment configuration shared by every binary. Each flag has an ANIPIPE_*
// environment variable (CLI11 prints both in --help); librdkafka properties pass through by their
// own names: --kafka key=value, or ANIPIPE_KAFKA_<KEY> with dots written as underscores
// (ANIPIPE_KAFKA_SOCKET_NAGLE_DISABLE=true). Flags win over the environment.
#include <CLI/CLI.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "http/client.hpp"
#include "kafka/settings.hpp"
#include "topic_names.hpp"

namespace anipipe::config {

struct WorkerOptions {
  kafka::Settings kafka;
  std::string group;
  std::string metrics_addr = "127.0.0.1:0";
  std::string log_level = "info";
  std::string schema_dirs;  // ':'-separated
  int shutdown_timeout_s = 30;
  int max_attempts = 5;
  int retry_backoff_ms = 200;
  int retry_backoff_max_ms = 30'000;
  std::string dlq_topic = topic_names::kDlq;
  /// Group workers: which instance this is (empty: lease a slot in instance_dir, see
  /// runtime/instance_lease.hpp), and whether the consumer is a static member under that id.
  std::string instance_id;
  std::string instance_dir;
  bool static_membership = true;
};

/// --brokers, --client-id, --kafka key=value.
void add_kafka_options(CLI::App& app, kafka::Settings& settings);
/// Kafka options plus what every process has: --metrics-addr, --log-level, --schema-dir, --dlq-topic,
/// --shutdown-timeout (for binaries that produce but do not consume, like ingest).
void add_process_options(CLI::App& app, WorkerOptions& options);
/// Process options plus the consumer's: --group, --max-attempts, --retry-backoff-ms,
/// --retry-backoff-max-ms, and the instance's identity: --instance-id, --instance-dir, --static-membership.
void add_worker_options(CLI::App& app, WorkerOptions& options, const std::string& default_group);

/// The upstream HTTP client's knobs: --http-connect-timeout-ms, --http-timeout-ms, --http-retries,
/// --breaker-failures, --breaker-open-ms (ANIPIPE_HTTP_*). Defaults are what `http` holds.
void add_http_options(CLI::App& app, http::ClientOptions& http);

/// Applies ANIPIPE_KAFKA_* from the environment and then the --kafka pairs; throws on a malformed pair.
void finalize_kafka_settings(kafka::Settings& settings, const std::vector<std::string>& kafka_pairs);

/// Parses argv; --help prints and exits 0, a usage error (unknown flag, bad or missing value)
/// prints what is wrong and exits 2.
/// Call after adding options; returns normally only when the program should run.
void parse_or_exit(CLI::App& app, int argc, char** argv);

}  // namespace anipipe::config
