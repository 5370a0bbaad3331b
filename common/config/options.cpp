#include "config/options.hpp"

#include "runtime/instance_lease.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

extern char** environ;

namespace anipipe::config {
namespace {

// Storage for --kafka pairs until finalize: CLI11 needs a stable place to write to.
std::vector<std::string>& kafka_pairs_storage() {
  static std::vector<std::string> pairs;
  return pairs;
}

}  // namespace

void add_kafka_options(CLI::App& app, kafka::Settings& settings) {
  app.add_option("--brokers", settings.brokers, "Kafka bootstrap servers")->envname("ANIPIPE_BROKERS")->capture_default_str();
  app.add_option("--client-id", settings.client_id, "Kafka client.id")->envname("ANIPIPE_CLIENT_ID")->capture_default_str();
  app.add_option("--kafka", kafka_pairs_storage(),
                 "Any librdkafka property as key=value (repeatable); also ANIPIPE_KAFKA_<KEY> with dots as underscores")
      ->type_name("KEY=VALUE");
  app.callback([&settings]() { finalize_kafka_settings(settings, kafka_pairs_storage()); });
}

void add_process_options(CLI::App& app, WorkerOptions& o) {
  add_kafka_options(app, o.kafka);
  app.add_option("--metrics-addr", o.metrics_addr, "Address for Prometheus /metrics (port 0 = any free port, 'off' = none)")
      ->envname("ANIPIPE_METRICS_ADDR")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error|critical|off")
      ->envname("ANIPIPE_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--schema-dir", o.schema_dirs, "JSON Schema directories, ':'-separated (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");
  app.add_option("--dlq-topic", o.dlq_topic, "Dead-letter topic")->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  app.add_option("--shutdown-timeout", o.shutdown_timeout_s, "Seconds allowed for a graceful shutdown before exiting hard")
      ->envname("ANIPIPE_SHUTDOWN_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

void add_worker_options(CLI::App& app, WorkerOptions& o, const std::string& default_group) {
  o.group = default_group;
  add_process_options(app, o);
  app.add_option("--group", o.group, "Consumer group id")->envname("ANIPIPE_GROUP")->capture_default_str();
  app.add_option("--max-attempts", o.max_attempts, "Attempts for a record whose handler throws, before it is dead-lettered")
      ->envname("ANIPIPE_MAX_ATTEMPTS")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--retry-backoff-ms", o.retry_backoff_ms, "First retry delay of a paused partition")
      ->envname("ANIPIPE_RETRY_BACKOFF_MS")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--retry-backoff-max-ms", o.retry_backoff_max_ms, "Largest retry delay of a paused partition")
      ->envname("ANIPIPE_RETRY_BACKOFF_MAX_MS")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  o.instance_dir = runtime::default_instance_dir();
  app.add_option("--instance-id", o.instance_id,
                 "This instance's stable id (static membership; sync's transactional id). Unique per running instance of the "
                 "group; empty: lease the lowest free slot in --instance-dir, id <host>-<slot>")
      ->envname("ANIPIPE_INSTANCE_ID");
  app.add_option("--instance-dir", o.instance_dir, "Folder where instances on this host lease their slots (a lock file each)")
      ->envname("ANIPIPE_INSTANCE_DIR")
      ->capture_default_str();
  app.add_option("--static-membership", o.static_membership,
                 "Join as a static member (group.instance.id = the instance id): a restarted instance takes its partitions "
                 "back at once instead of after the session timeout")
      ->envname("ANIPIPE_STATIC_MEMBERSHIP")
      ->capture_default_str();
}

namespace {
void add_millis_option(CLI::App& app, const std::string& name, std::chrono::milliseconds& target, const std::string& help,
                       const std::string& env) {
  app.add_option_function<std::int64_t>(
         name, [&target](std::int64_t ms) { target = std::chrono::milliseconds(ms); }, help)
      ->envname(env)
      ->default_str(std::to_string(target.count()))
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));
}
}  // namespace

void add_http_options(CLI::App& app, http::ClientOptions& http) {
  add_millis_option(app, "--http-connect-timeout-ms", http.connect_timeout, "HTTP connect timeout", "ANIPIPE_HTTP_CONNECT_TIMEOUT_MS");
  add_millis_option(app, "--http-timeout-ms", http.request_timeout, "HTTP request timeout (send to last byte)", "ANIPIPE_HTTP_TIMEOUT_MS");
  app.add_option("--http-retries", http.max_retries, "Retries on transport errors, 5xx and 429 (Retry-After honoured)")
      ->envname("ANIPIPE_HTTP_RETRIES")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  app.add_option("--breaker-failures", http.breaker_failures, "Consecutive failures that open the circuit breaker")
      ->envname("ANIPIPE_HTTP_BREAKER_FAILURES")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  add_millis_option(app, "--breaker-open-ms", http.breaker_open_for, "How long an open breaker refuses calls before one trial",
                    "ANIPIPE_HTTP_BREAKER_OPEN_MS");
}

void finalize_kafka_settings(kafka::Settings& settings, const std::vector<std::string>& kafka_pairs) {
  constexpr std::string_view prefix = "ANIPIPE_KAFKA_";
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with(prefix)) continue;
    // scripts/kafka's own settings (the local broker's ports, heap, start-up wait) share the prefix.
    bool script_setting = false;
    for (std::string_view own : {"ANIPIPE_KAFKA_PORT=", "ANIPIPE_KAFKA_CONTROLLER_PORT=", "ANIPIPE_KAFKA_HEAP=",
                                 "ANIPIPE_KAFKA_READY_TIMEOUT=", "ANIPIPE_KAFKA_BROKERS="})
      script_setting |= entry.starts_with(own);
    if (script_setting) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(entry.substr(prefix.size(), eq - prefix.size()));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return c == '_' ? '.' : std::tolower(c); });
    settings.overrides[key] = std::string(entry.substr(eq + 1));
  }
  for (const auto& pair : kafka_pairs) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) throw CLI::ValidationError("--kafka", "expected KEY=VALUE, got '" + pair + "'");
    settings.overrides[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
}

void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or --help) and returns its own code per kind of error (105-
    // 120); one code for every bad command line is what supervisors and scripts check.
    const int code = app.exit(e);
    std::exit(code == 0 ? 0 : 2);
  }
}

}  // namespace anipipe::config
