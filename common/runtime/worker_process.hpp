#pragma once
// What every worker's main() does after parsing its flags: JSON logging, the schemas, /metrics,
// signal handling, then the consumer loop until SIGTERM/SIGINT. Startup problems throw (bad
// config, unreadable schemas, a taken metrics port); run_worker turns them into exit code 2.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "json/schema.hpp"
#include "metrics/metrics.hpp"
#include "runtime/consumer_loop.hpp"

namespace anipipe::runtime {

struct WorkerContext {
  const json::SchemaRegistry& schemas;
  metrics::Metrics& metrics;
  const std::atomic<bool>& stop;  // set by SIGTERM/SIGINT
  /// Group workers: this instance's id (given or leased, runtime/instance_lease.hpp), and the
  /// group.instance.id to join with (the same id, or empty with --static-membership false).
  std::string instance_id;
  std::string group_instance_id;
};

/// The start-up every binary shares (JSON logs, signal handlers, schemas, /metrics, and for a
/// group worker - options.group set - its instance id), then body. An exception from start-up or
/// body is logged and becomes exit code 2. A fatal Kafka client error (kafka::FatalError: fenced,
/// a transaction the broker refuses) leaves a client that cannot be used again, and a new one is
/// all a restart would bring: body runs again in the process (new clients, state rebuilt from
/// Kafka; so body must not consume what it captures), at most 5 times in 10 minutes. A fence of a
/// given --instance-id may come from a twin, and the two would take turns fencing each other:
/// that, and a sixth error, end the process with exit code 4 for a supervisor to see.
int run_process(std::string_view worker, const config::WorkerOptions& options, const std::function<int(WorkerContext)>& body);

/// Names a group worker (loop.worker: in logs, metrics, headers and dead letters; its Kafka client
/// id anipipe-<worker>) and declares the flags every worker shares (config::add_worker_options,
/// default group anipipe-<worker>) into loop.options.
void add_worker_settings(CLI::App& app, LoopSettings& loop, const std::string& worker);

/// Builds the handler with the context (schemas, metrics) and runs the loop. Returns the exit code.
int run_worker(LoopSettings settings, const std::function<std::unique_ptr<RecordHandler>(WorkerContext)>& make_handler);

}  // namespace anipipe::runtime
