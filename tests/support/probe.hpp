#pragma once
// Starting the probe worker (tests/support/probe_worker.cpp) against the test broker.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "process.hpp"

namespace anipipe::testing {

struct ProbeSetup {
  std::string input_topic, output_topic, dlq_topic, group;
  std::string dir;  // logs and status files
  std::vector<std::string> extra_args;
};

/// Starts one probe instance; its log is <dir>/<instance>.log, its assignment <dir>/<instance>.status.
std::unique_ptr<Process> start_probe(const ProbeSetup& setup, const std::string& instance);
/// Partitions the instance says it owns (from its status file).
std::set<int> probe_assignment(const ProbeSetup& setup, const std::string& instance);

}  // namespace anipipe::testing
