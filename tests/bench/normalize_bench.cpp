// anipipe-bench-normalize: what ingest's normalizing costs per message on this thread, without
// Kafka: the same recording scripts/bench-ingest replays, normalized with and without the
// contract check. Profile this (perf, callgrind) rather than the whole ingest: no broker noise.
#include <simdjson.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "json/schema.hpp"
#include "upstream/normalizer.hpp"

namespace {

/// One pass over the lines. reparse: also validates each event by parsing it again (how the check was done before it
/// followed the writer), for comparison.
double ns_per_message(const simdjson::padded_string& text, const std::vector<std::string_view>& lines,
                      anipipe::upstream::Normalizer& normalizer, std::size_t& events,
                      const anipipe::json::SchemaRegistry* reparse = nullptr) {
  anipipe::upstream::Normalized n;
  const auto started = std::chrono::steady_clock::now();
  events = 0;
  for (auto line : lines) {
    normalizer.normalize(anipipe::upstream::padded_line(line, text), "replay", "", "2026-12-02T00:00:00.000Z", n);
    events += n.status == anipipe::upstream::Normalized::Status::event &&
              (!reparse || !reparse->validate("anilibria.upstream.events", n.json));
  }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
  return ns / static_cast<double>(lines.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-bench-normalize: ingest's normalizer alone, in ns per message"};
  std::string file;
  int rounds = 5;
  app.add_option("file", file, "NDJSON recording (tests/bench/make_recording.py)")->required()->check(CLI::ExistingFile);
  app.add_option("--rounds", rounds, "Passes over the file with and without the check, alternately (the fastest of each counts)")
      ->capture_default_str();
  std::string write_to;
  app.add_option("--write", write_to,
                 "Also write each message's event (or rejection) to this file, a line each: "
                 "compares normalizers before and after a change");
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
  if (!write_to.empty()) {
    std::FILE* out = std::fopen(write_to.c_str(), "w");
    if (!out) return 1;
    anipipe::upstream::Normalizer normalizer(&contract);
    anipipe::upstream::Normalized n;
    for (auto line : lines) {
      normalizer.normalize(anipipe::upstream::padded_line(line, text), "replay", "", "2026-12-02T00:00:00.000Z", n);
      const std::string& shown = n.status == anipipe::upstream::Normalized::Status::event ? n.json : n.reason;
      std::fprintf(out, "%s\n", shown.c_str());
    }
    std::fclose(out);
  }
  anipipe::upstream::Normalizer checked(&contract), unchecked;
  // Interleaved passes, the fastest of each kind: on a shared machine a noisy moment then hits
  // both alike, and the difference is the check's cost rather than the noise's.
  std::size_t events_checked = 0, events_unchecked = 0;
  std::size_t events_reparsed = 0;
  double with = 1e300, without = 1e300, reparsed = 1e300;
  for (int r = 0; r < rounds; ++r) {
    without = std::min(without, ns_per_message(text, lines, unchecked, events_unchecked));
    with = std::min(with, ns_per_message(text, lines, checked, events_checked));
    reparsed = std::min(reparsed, ns_per_message(text, lines, unchecked, events_reparsed, &contract));
  }
  std::printf("{\"messages\":%zu,\"events\":%zu,\"ns_per_message\":%.0f,\"ns_per_message_unchecked\":%.0f,"
              "\"ns_contract_check\":%.0f,\"ns_contract_check_by_parsing_again\":%.0f}\n",
              lines.size(), events_checked, with, without, with - without, reparsed - without);
  if (events_reparsed != events_checked) return 1;
  return events_checked == events_unchecked ? 0 : 1;
}
