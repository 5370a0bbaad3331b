#pragma once
// JSON logs, one object per line on stderr: ts, level, worker, msg, and the record being worked on
// (topic, partition, offset, correlation id) when there is one. The record context is per thread,
// set by the consumer loop around each handler call, so handlers just log.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace anipipe::log {

/// Installs the JSON formatter on the default logger. level: trace|debug|info|warn|error|critical|off.
void init(std::string_view worker, std::string_view level);

struct RecordContext {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string correlation_id;
};

/// Sets this thread's record context for the lifetime of the guard.
class ScopedRecordContext {
public:
  explicit ScopedRecordContext(RecordContext ctx);
  ~ScopedRecordContext();
  ScopedRecordContext(const ScopedRecordContext&) = delete;
  ScopedRecordContext& operator=(const ScopedRecordContext&) = delete;
};

}  // namespace anipipe::log
