#pragma once
// SIGTERM/SIGINT request a graceful stop; a second signal, or the shutdown deadline passing,
// ends the process at once (uncommitted work is re-consumed on restart: at-least-once).
#include <atomic>
#include <chrono>

namespace anipipe::runtime {

/// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& install_shutdown_handlers();
/// Requests a stop as if a signal arrived (tests, fatal errors).
void request_shutdown();
/// Starts a detached watchdog that exits the process with code 3 if it still runs after `limit`.
void arm_shutdown_deadline(std::chrono::seconds limit);

}  // namespace anipipe::runtime
