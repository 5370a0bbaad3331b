// anipipe-bench-normalize: what ingest's normalizing costs per message on this thread, without
// Kafka: the same recording scripts/bench-ingest replays, normalized with and without the
// contract check. Profile this (perf, callgrind) rather than the whole ingest: no broker noise.
#include <CLI/CLI.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "json/schema.hpp"
#include "upstream/normalizer.hpp"

namespace {

double ns_per_message(const simdjson::padded_string& text, const std::vector<std::string_view>& lines,
                      anipipe::upstream::Normalizer& normalizer, int rounds, std::size_t& events) {
  anipipe::upstream::Normalized n;
  const auto started = std::chrono::steady_clock::now();
  events = 0;
  for (int r = 0; r < rounds; ++r)
    for (auto line : lines) {
      const std::size_t capacity = static_cast<std::size_t>(text.data() + text.size() - line.data()) + simdjson::SIMDJSON_PADDING;
      normalizer.normalize(simdjson::padded_string_view(line.data(), line.size(), capacity), "replay", "",
                           "2026-12-02T00:00:00.000Z", n);
      events += n.status == anipipe::upstream::Normalized::Status::event;
    }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
  return ns / static_cast<double>(lines.size() * static_cast<std::size_t>(rounds));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-bench-normalize: ingest's normalizer alone, in ns per message"};
  std::string file;
  int rounds = 3;
  app.add_option("file", file, "NDJSON recording (tests/bench/make_recording.py)")->required()->check(CLI::ExistingFile);
  app.add_option("--rounds", rounds, "Passes over the file")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(file).get(text)) {
    std::fprintf(stderr, "cannot read %s: %s\n", file.c_str(), simdjson::error_message(err));
    return 1;
  }
  std::vector<std::string_view> lines;
  for (std::size_t p = 0; p < text.size();) {
    std::size_t nl = std::string_view(text).find('\n', p);
    if (nl == std::string_view::npos) nl = text.size();
    if (nl > p) lines.emplace_back(text.data() + p, nl - p);
    p = nl + 1;
  }
  const auto contract = anipipe::json::SchemaRegistry::load_directories("");
  anipipe::upstream::Normalizer checked(&contract), unchecked;
  std::size_t events_checked = 0, events_unchecked = 0;
  const double without = ns_per_message(text, lines, unchecked, rounds, events_unchecked);
  const double with = ns_per_message(text, lines, checked, rounds, events_checked);
  std::printf("{\"messages\":%zu,\"events\":%zu,\"ns_per_message\":%.0f,\"ns_per_message_unchecked\":%.0f,"
              "\"ns_contract_check\":%.0f}\n",
              lines.size(), events_checked / static_cast<std::size_t>(rounds), with, without, with - without);
  return events_checked == events_unchecked ? 0 : 1;
}
