#include "runtime/shutdown.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <thread>

namespace anipipe::runtime {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  if (g_stop.exchange(true)) _exit(130);  // second signal: the operator insists
}

}  // namespace

const std::atomic<bool>& install_shutdown_handlers() {
  static bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)installed;
  return g_stop;
}

void request_shutdown() { g_stop = true; }

void arm_shutdown_deadline(std::chrono::seconds limit) {
  std::thread([limit] {
    std::this_thread::sleep_for(limit);
    spdlog::error("graceful shutdown did not finish within {} s; exiting without a final commit", limit.count());
    spdlog::default_logger()->flush();
    _exit(3);
  }).detach();
}

}  // namespace anipipe::runtime
