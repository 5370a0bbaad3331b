#pragma once
// tests/node/legacy_backend.js, the fake legacy Node.js back end of the migration (docs/migration.md),
// as a process: it serves the v1 titles it is given, routes the edge lacks, and differs or sleeps
// when told to (POST /_control/...).
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafka_helpers.hpp"
#include "process.hpp"
#include "raw_http.hpp"

namespace anipipe::testing {

class LegacyBackend {
public:
  explicit LegacyBackend(const std::string& dir) {
    using namespace std::chrono_literals;
    const std::string port_file = dir + "/legacy_backend.port";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/env", "node", source_dir() + "/tests/node/legacy_backend.js", "--port-file", port_file},
        dir + "/legacy_backend.log");
    if (!eventually([&] { return std::ifstream(port_file) >> port_ && port_ > 0; }, 15s))
      throw std::runtime_error("the Node.js legacy back end did not start: " + process_->log_tail());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void control(const std::string& path, const std::string& body) const {
    raw_http(port_, http_request("POST", "/_control/" + path, {{"Content-Type", "application/json"}}, body));
  }
  std::string requests() const { return raw_http(port_, http_request("GET", "/_control/requests")).body; }
  void stop() { process_.reset(); }

private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace anipipe::testing
