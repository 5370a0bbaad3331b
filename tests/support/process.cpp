#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace anipipe::testing {
namespace {

// Children still running, so that a test that crashes or is interrupted does not leave workers
// behind it (their destructors never run then): a fatal signal kills them first, then goes on to
// whatever handled it before (doctest reports the crash).
constexpr int kMaxChildren = 512;
std::atomic<pid_t> g_children[kMaxChildren];
struct sigaction g_previous[32];
constexpr int kFatalSignals[] = {SIGTERM, SIGINT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE};

extern "C" void kill_children_then_chain(int sig) {
  for (auto& c : g_children)
    if (const pid_t pid = c.load(); pid > 0) ::kill(pid, SIGKILL);
  const auto& prev = g_previous[sig];
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
    prev.sa_sigaction(sig, nullptr, nullptr);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void track(pid_t pid) {
  static const bool installed = [] {
    for (int sig : kFatalSignals) {
      struct sigaction sa {};
      sa.sa_handler = kill_children_then_chain;
      sigemptyset(&sa.sa_mask);
      sigaction(sig, &sa, &g_previous[sig]);
    }
    return true;
  }();
  (void)installed;
  for (auto& c : g_children) {
    pid_t empty = 0;
    if (c.compare_exchange_strong(empty, pid)) return;
  }
}

void untrack(pid_t pid) {
  for (auto& c : g_children) {
    pid_t mine = pid;
    if (c.compare_exchange_strong(mine, 0)) return;
  }
}

}  // namespace

Process::Process(std::vector<std::string> argv, std::string log_file) : log_file_(std::move(log_file)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0] + ": " + std::to_string(rc));
  track(pid_);
}

Process::~Process() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait_for(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      untrack(pid_);
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string Process::log_tail(std::size_t bytes) const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  const std::string log = make_temp_dir("cmd") + "/output.log";
  Process p(argv, log);
  CommandResult r;
  auto code = p.wait_for(timeout);
  if (!code) {
    p.signal(SIGKILL);
    code = p.wait_for(std::chrono::seconds(5));
    r.output = "[timed out]\n";
  }
  r.exit_code = code.value_or(-1);
  r.output += p.log_tail(1 << 20);
  return r;
}

std::string exit_problem(Process& p, std::chrono::milliseconds timeout) {
  const auto code = p.wait_for(timeout);
  if (code == 0) return "";
  return (code ? "exited with " + std::to_string(*code) : std::string("still running")) + "; " + p.log_file() + " ends with:\n" +
         p.log_tail(3000);
}

std::string screenshot_problem(const std::string& path) {
  std::ifstream png(path, std::ios::binary);
  if (!png) return "no file " + path;
  std::string head(8, '\0');
  png.read(head.data(), 8);
  if (head != std::string("\x89PNG\r\n\x1a\n", 8)) return path + " is not a PNG";
  png.seekg(0, std::ios::end);
  const auto size = static_cast<long long>(png.tellg());
  return size > 5000 ? std::string() : path + " has only " + std::to_string(size) + " bytes";
}

void keep_artifact(const std::string& path, const std::string& name) {
  std::filesystem::copy_file(path, std::filesystem::temp_directory_path() / name, std::filesystem::copy_options::overwrite_existing);
}

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/anipipe-" + prefix + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  return tmpl;
}

}  // namespace anipipe::testing
