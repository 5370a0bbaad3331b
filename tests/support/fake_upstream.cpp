#include "fake_upstream.hpp"

#include <fstream>
#include <stdexcept>

#include "kafka_helpers.hpp"

namespace anipipe::testing {

FakeUpstream::FakeUpstream(const std::string& dir) {
  const std::string port_file = dir + "/fake_upstream.port";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/env", "python3", source_dir() + "/tests/fake_upstream/fake_upstream.py", "--port-file", port_file},
      dir + "/fake_upstream.log");
  if (!eventually([&] { return std::ifstream(port_file) >> port_ && port_ > 0; }, std::chrono::seconds(15)))
    throw std::runtime_error("fake upstream did not start: " + process_->log_tail());
  http::ClientOptions o;
  o.max_retries = 0;
  client_ = std::make_unique<http::Client>("http://127.0.0.1:" + std::to_string(port_), o);
}

std::string FakeUpstream::control(const std::string& what, const std::string& json_body) {
  auto r = client_->post("/_control/" + what, json_body, "application/json");
  if (r.status != 200) throw std::runtime_error("fake upstream control " + what + ": HTTP " + std::to_string(r.status));
  return r.body;
}

std::string FakeUpstream::inspect(const std::string& what) {
  auto r = client_->get("/_control/" + what);
  if (r.status != 200) throw std::runtime_error("fake upstream control " + what + ": HTTP " + std::to_string(r.status));
  return r.body;
}

namespace {
int stat(http::Client& c, const std::string& name) {
  auto r = c.get("/_control/stats");
  const std::string key = "\"" + name + "\": ";
  const auto at = r.body.find(key);
  return at == std::string::npos ? -1 : std::stoi(r.body.substr(at + key.size()));
}
}  // namespace

int FakeUpstream::requests() { return stat(*client_, "requests"); }
int FakeUpstream::ws_clients() { return stat(*client_, "ws_clients"); }
int FakeUpstream::subscribes() { return stat(*client_, "subscribes"); }

}  // namespace anipipe::testing
