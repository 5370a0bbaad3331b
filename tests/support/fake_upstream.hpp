#pragma once
// tests/fake_upstream/fake_upstream.py as a child process, scripted over its /_control API.
#include <memory>
#include <string>

#include "http/client.hpp"
#include "process.hpp"

namespace anipipe::testing {

class FakeUpstream {
public:
  explicit FakeUpstream(const std::string& dir);
  /// "http://127.0.0.1:<port>/api/v1"
  std::string v1_base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1"; }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/api/v3/ws"; }
  /// POST /_control/<what> with a JSON body; returns the response body.
  std::string control(const std::string& what, const std::string& json_body);
  /// GET /_control/<what> (state, stats); returns the response body.
  std::string inspect(const std::string& what);
  int requests();
  int ws_clients();
  int subscribes();

private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
  std::unique_ptr<http::Client> client_;
};

}  // namespace anipipe::testing
