#include "runtime/worker_process.hpp"

#include <spdlog/spdlog.h>

#include "log/log.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

int run_worker(LoopSettings settings, const std::function<std::unique_ptr<RecordHandler>(WorkerContext)>& make_handler) {
  try {
    log::init(settings.worker, settings.options.log_level);
    const auto& stop = install_shutdown_handlers();
    auto schemas = json::SchemaRegistry::load_directories(settings.options.schema_dirs);
    metrics::Metrics metrics(settings.worker, settings.options.metrics_addr);
    if (metrics.port()) spdlog::info("metrics on http://{}:{}/metrics", settings.options.metrics_addr.substr(0, settings.options.metrics_addr.rfind(':')), metrics.port());
    auto handler = make_handler(WorkerContext{schemas, metrics});
    ConsumerLoop loop(std::move(settings), *handler, schemas, metrics);
    return loop.run(stop);
  } catch (const std::exception& e) {
    spdlog::critical("cannot run: {}", e.what());
    spdlog::default_logger()->flush();
    return 2;
  }
}

}  // namespace anipipe::runtime
