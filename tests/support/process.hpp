#pragma once
// A child process for integration tests: spawned with its output in a log file, signalled,
// waited for with a deadline, and always reaped (SIGKILL in the destructor if still running).
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace anipipe::testing {

class Process {
public:
  Process(std::vector<std::string> argv, std::string log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  /// Exit code (or 128+signal) once it ended, nullopt if still running after `timeout`.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  const std::string& log_file() const { return log_file_; }
  /// The last `bytes` of the log, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_file_;
};

/// "" if p exits with 0 within timeout; otherwise how it ended and the tail of its log, for the
/// failure message: CHECK(exit_problem(p, 30s) == "").
std::string exit_problem(Process& p, std::chrono::milliseconds timeout);

/// Runs a command to completion (bounded) and returns its exit code and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(60));

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F&& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    struct timespec ts {
      0, 100'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return condition();
}

/// "" if `path` is a PNG of more than 5,000 bytes (a page, not a blank), else what is wrong.
std::string screenshot_problem(const std::string& path);
/// Copies a test's artifact to $TMPDIR/<name>, where people find the last run's.
void keep_artifact(const std::string& path, const std::string& name);

/// A fresh directory under $TMPDIR for one test's files.
std::string make_temp_dir(const std::string& prefix);

}  // namespace anipipe::testing
