#include "runtime/worker_process.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

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
      else spdlog::info("instance id {} (given){}", lease->id(), options.static_membership ? "; static member of " + options.group : "");
    }
    // A fatal error leaves librdkafka's client unusable; new clients are what a supervisor's
    // restart would bring, so the worker starts again in this process. A static member fenced
    // although its id is leased here (ids carry the host name, and the kernel's lock lets one
    // process at a time hold a slot) was fenced by itself: after a coordinator failover the broker
    // can process one of its own abandoned JoinGroups late and take it for a newer instance
    // (KAFKA-20985); a transaction can fail fatally the same way (INVALID_TXN_STATE from a new
    // coordinator). A given id may have a twin to ping-pong with: fenced, it exits.
    std::vector<std::chrono::steady_clock::time_point> rejoins;
    for (;;) {
      try {
        return body(ctx);
      } catch (const kafka::FatalError& e) {
        const auto now = std::chrono::steady_clock::now();
        std::erase_if(rejoins, [&](auto t) { return now - t > std::chrono::minutes(10); });
        // "fenced", "fences the current one" (a newer transactional producer), "old epoch".
        const std::string_view what = e.what();
        const bool fenced = what.find("fence") != std::string_view::npos || what.find("epoch") != std::string_view::npos;
        const bool leased = lease && lease->slot();
        if ((fenced && !leased) || stop.load() || rejoins.size() >= 5) throw;
        rejoins.push_back(now);
        if (fenced)
          spdlog::warn("{}; instance id {} is leased by this process alone, so it fenced itself (a coordinator failover): "
                       "starting the worker again in this process ({} of 5 in 10 min)",
                       e.what(), lease->id(), rejoins.size());
        else spdlog::warn("{}: starting the worker again in this process with new clients ({} of 5 in 10 min)", e.what(), rejoins.size());
        metrics.rebalance(fenced ? "self_fenced" : "restarted");
      }
    }
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

void add_worker_settings(CLI::App& app, LoopSettings& loop, const std::string& worker) {
  loop.worker = worker;
  loop.options.kafka.client_id = "anipipe-" + worker;
  config::add_worker_options(app, loop.options, "anipipe-" + worker);
}

int run_worker(LoopSettings settings, const std::function<std::unique_ptr<RecordHandler>(WorkerContext)>& make_handler) {
  const auto options = settings.options;
  const std::string worker = settings.worker;
  return run_process(worker, options, [&](WorkerContext ctx) {
    auto handler = make_handler(ctx);
    auto run_settings = settings;  // a copy: the body runs again after a fatal error
    run_settings.group_instance_id = ctx.group_instance_id;
    ConsumerLoop loop(std::move(run_settings), *handler, ctx.schemas, ctx.metrics);
    return loop.run(ctx.stop);
  });
}

}  // namespace anipipe::runtime
