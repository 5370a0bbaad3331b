#include "runtime/worker_process.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "kafka/fatal_error.hpp"
#include "log/log.hpp"
#include "runtime/instance_lease.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

int run_process(std::string_view worker, const config::WorkerOptions& options, const std::function<int(WorkerContext)>& body) {
  try {
    log::init(worker, options.log_level);
    const auto& stop = install_shutdown_handlers();
    auto schemas = json::SchemaRegistry::load_directories(options.schema_dirs);
    metrics::Metrics metrics(std::string(worker), options.metrics_addr);
    if (metrics.port())
      spdlog::info("metrics on http://{}:{}/metrics", options.metrics_addr.substr(0, options.metrics_addr.rfind(':')), metrics.port());
    std::optional<InstanceLease> lease;
    WorkerContext ctx{schemas, metrics, stop, {}, {}};
    if (!options.group.empty()) {
      lease.emplace(InstanceLease::acquire(options.instance_id, options.instance_dir, options.group));
      ctx.instance_id = lease->id();
      if (options.static_membership) ctx.group_instance_id = lease->id();
      if (lease->slot())
        spdlog::info("instance id {} (slot {} leased in {}){}", lease->id(), *lease->slot(), options.instance_dir,
                     options.static_membership ? "; static member of " + options.group : "");
      else
        spdlog::info("instance id {} (given){}", lease->id(), options.static_membership ? "; static member of " + options.group : "");
    }
    return body(ctx);
  } catch (const kafka::FatalError& e) {
    spdlog::critical("{}; exiting so that a supervisor starts this instance again", e.what());
    spdlog::default_logger()->flush();
    return 4;
  } catch (const std::exception& e) {
    spdlog::critical("cannot run: {}", e.what());
    spdlog::default_logger()->flush();
    return 2;
  }
}

int run_worker(LoopSettings settings, const std::function<std::unique_ptr<RecordHandler>(WorkerContext)>& make_handler) {
  const auto options = settings.options;
  const std::string worker = settings.worker;
  return run_process(worker, options, [&](WorkerContext ctx) {
    auto handler = make_handler(ctx);
    settings.group_instance_id = ctx.group_instance_id;
    ConsumerLoop loop(std::move(settings), *handler, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}

}  // namespace anipipe::runtime
