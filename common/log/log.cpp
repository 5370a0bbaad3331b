#include "log/log.hpp"

#include "util/clock.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <ctime>
#include <optional>

#include "json/json_writer.hpp"

namespace anipipe::log {
namespace {

thread_local std::optional<RecordContext> t_context;

class JsonFormatter final : public spdlog::formatter {
public:
  explicit JsonFormatter(std::string worker) : worker_(std::move(worker)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(160 + msg.payload.size());
    json::Writer w(line);
    w.begin_object();
    w.field("ts", timestamp(msg.time));
    w.field("level", std::string_view(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size()));
    w.field("worker", worker_);
    w.field("msg", std::string_view(msg.payload.data(), msg.payload.size()));
    if (t_context) {
      w.field("topic", t_context->topic);
      w.field("partition", static_cast<std::int64_t>(t_context->partition));
      w.field("offset", t_context->offset);
      if (!t_context->correlation_id.empty()) w.field("correlation_id", t_context->correlation_id);
    }
    w.end_object();
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(worker_); }

private:
  static std::string timestamp(spdlog::log_clock::time_point tp) {
    return util::to_rfc3339(std::chrono::time_point_cast<std::chrono::system_clock::duration>(tp));
  }
  std::string worker_;
};

}  // namespace

void init(std::string_view worker, std::string_view level) {
  auto logger = std::make_shared<spdlog::logger>(std::string(worker), std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<JsonFormatter>(std::string(worker)));
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + std::string(level) + "' (trace, debug, info, warn, error, critical, off)");
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

ScopedRecordContext::ScopedRecordContext(RecordContext ctx) { t_context = std::move(ctx); }
ScopedRecordContext::~ScopedRecordContext() { t_context.reset(); }

}  // namespace anipipe::log
