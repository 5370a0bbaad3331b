#pragma once
// Progress of a long operation on stderr: a redrawn bar on a terminal (done of total, rate, ETA),
// a plain line every few seconds otherwise (logs, CI), and a summary at the end.
#include <chrono>
#include <cstdint>
#include <string>

namespace anipipe::ops {

class Progress {
public:
  Progress(std::string what, std::uint64_t total, bool terminal);
  /// Cheap to call per record: redraws at most every 100 ms (terminal) or 2 s (plain).
  void update(std::uint64_t done);
  /// Final line; returns the elapsed seconds.
  double finish(std::uint64_t done);
  /// "45,000/100,000 (45%), 32,100/s, ETA 2s" — exposed for tests.
  static std::string describe(std::uint64_t done, std::uint64_t total, double seconds);

private:
  std::string what_;
  std::uint64_t total_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_, last_draw_{};
};

}  // namespace anipipe::ops
