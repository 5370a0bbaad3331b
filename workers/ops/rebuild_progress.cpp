#include "rebuild_progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace anipipe::ops {

namespace {
std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}
}  // namespace

Progress::Progress(std::string what, std::uint64_t total, bool terminal)
    : what_(std::move(what)), total_(total), terminal_(terminal), started_(std::chrono::steady_clock::now()) {}

std::string Progress::describe(std::uint64_t done, std::uint64_t total, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  std::string out = grouped(done) + "/" + grouped(total);
  if (total > 0) out += " (" + std::to_string(std::min<std::uint64_t>(100, done * 100 / total)) + "%)";
  out += ", " + grouped(static_cast<std::uint64_t>(rate)) + "/s";
  if (rate > 0 && total > done) out += ", ETA " + std::to_string(std::llround(static_cast<double>(total - done) / rate)) + "s";
  return out;
}

void Progress::update(std::uint64_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < (terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000))) return;
  last_draw_ = now;
  const double s = std::chrono::duration<double>(now - started_).count();
  const auto text = describe(done, total_, s);
  if (!terminal_) {
    std::fprintf(stderr, "%s: %s\n", what_.c_str(), text.c_str());
    return;
  }
  constexpr int width = 30;
  const int filled = total_ ? static_cast<int>(std::min<std::uint64_t>(done, total_) * width / total_) : 0;
  std::fprintf(stderr, "\r%s [%s%s] %s\033[K", what_.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), text.c_str());
}

double Progress::finish(std::uint64_t done) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s: done, %s in %.1fs\n", what_.c_str(), describe(done, std::max(done, total_), s).c_str(), s);
  return s;
}

}  // namespace anipipe::ops
