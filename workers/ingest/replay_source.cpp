#include "replay_source.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "util/clock.hpp"

namespace anipipe::ingest {

simdjson::padded_string load_recording(const std::filesystem::path& file) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(file.string()).get(text))
    throw std::runtime_error("cannot read recording " + file.string() + ": " + simdjson::error_message(err));
  return text;
}

std::size_t replay(const simdjson::padded_string& text, const ReplayOptions& options, upstream::Normalizer& normalizer,
                   EventPublisher& publisher, kafka::Producer& producer, const std::atomic<bool>& stop) {
  const std::string origin_prefix = "replay:" + options.file.filename().string() + ":";

  std::string observed_at = util::now_rfc3339();
  auto observed_refreshed = std::chrono::steady_clock::now();
  std::optional<std::chrono::system_clock::time_point> first_recorded;
  const auto started = std::chrono::steady_clock::now();

  std::size_t lines = 0;
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* p = begin; p < end && !stop.load(std::memory_order_relaxed);) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    std::string_view line(p, static_cast<std::size_t>(line_end - p));
    p = nl ? nl + 1 : end;
    ++lines;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;

    // Formatting a timestamp per line would cost more than normalizing; millisecond-exactness is not needed.
    const auto now = std::chrono::steady_clock::now();
    if (now - observed_refreshed > std::chrono::milliseconds(100)) {
      observed_at = util::now_rfc3339();
      observed_refreshed = now;
    }
    const std::size_t capacity = static_cast<std::size_t>(end - line.data()) + simdjson::SIMDJSON_PADDING;
    auto n = normalizer.normalize(simdjson::padded_string_view(line.data(), line.size(), capacity), "replay", "", observed_at);

    if (options.recorded_pace && !n.recorded_at.empty()) {
      if (auto at = util::parse_rfc3339(n.recorded_at)) {
        if (!first_recorded) first_recorded = *at;
        const auto offset = std::chrono::duration_cast<std::chrono::steady_clock::duration>((*at - *first_recorded) / options.speed);
        while (std::chrono::steady_clock::now() < started + offset && !stop.load()) {
          producer.poll(std::chrono::milliseconds(0));
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(started + offset - std::chrono::steady_clock::now(),
                                                                                   std::chrono::milliseconds(50)));
        }
      }
    }
    publisher.publish(std::move(n), line, "replay", origin_prefix + std::to_string(lines));
    if ((lines & 1023) == 0) producer.poll(std::chrono::milliseconds(0));
  }
  spdlog::info("replayed {} line(s) of {}", lines, options.file.string());
  return lines;
}

}  // namespace anipipe::ingest
