// User tokens checked by the site's back end (seed 001's POST /internal/auth/validate) instead of a
// shared key: the edge against a Node.js back end written to the seed's contract
// (tests/node/auth_backend.js), its cache of yes and no, a revoked token, and a back end down.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <string>
#include <thread>

#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "process.hpp"
#include "raw_http.hpp"
#include "ws_client.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kServiceToken = "internal-service-token-for-the-edge";

/// The seed's back end: the tokens it knows, every call it answered in its log.
class AuthBackend {
public:
  explicit AuthBackend(const std::string& dir) : log_(dir + "/auth_calls.ndjson") {
    const std::string port_file = dir + "/auth_backend.port";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/env", "node", source_dir() + "/tests/node/auth_backend.js", "--port-file", port_file, "--log",
                                 log_, "--service-token", kServiceToken, "--user", "token-of-alice=alice", "--user", "token-of-bob=42"},
        dir + "/auth_backend.log");
    if (!eventually([&] { return std::ifstream(port_file) >> port_ && port_ > 0; }, 15s))
      throw std::runtime_error("the Node.js back end did not start: " + process_->log_tail());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/internal/auth/validate"; }
  /// Calls the back end answered with this status.
  int calls(int status) const {
    std::ifstream in(log_);
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.find("\"status\":" + std::to_string(status)) != std::string::npos;
    return n;
  }
  void control(const std::string& body) const {
    raw_http(port_, http_request("POST", "/_control", {{"Content-Type", "application/json"}}, body));
  }

private:
  std::string log_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

int upgrade_status(int port, const std::string& token) {
  return raw_http(port, "GET /api/anilibria/v2/ws?token=" + token +
                            " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
      .status;
}

}  // namespace

TEST_CASE("edge: user tokens checked by the back end (seed 001's /internal/auth/validate), its answers cached, a revoked token "
          "refused after the cache's TTL, a back end down is a 503 and never a guess") {
  Pipeline p;
  AuthBackend backend(p.dir());
  int port = 0;
  auto edge = p.start_edge("edge.log", port,
                           {"--user-secret", "", "--auth-validate-url", backend.url(), "--auth-service-token", kServiceToken,
                            "--auth-cache-ttl-s", "2", "--auth-negative-ttl-s", "30"});
  INFO(edge->log_tail());

  // A token the back end knows: the connection is that user's and gets their notifications.
  WsClient alice(port, "/api/anilibria/v2/ws?token=token-of-alice");
  CHECK(alice.wait_for(R"("type":"welcome")", 5s).find(R"("user":"alice")") != std::string::npos);
  WsClient bob(port, "/api/anilibria/v2/ws?token=token-of-bob");
  CHECK(bob.wait_for(R"("type":"welcome")", 5s).find(R"("user":"42")") != std::string::npos);  // an integer user_id
  produce_all(p.topics().notifications, {{"alice", R"({"idempotency_key":"auth:alice"})"}});
  CHECK(alice.wait_for(R"("type":"notification")", 10s).find("auth:alice") != std::string::npos);
  // Again within the TTL: answered from the cache, no second call.
  WsClient alice_again(port, "/api/anilibria/v2/ws?token=token-of-alice");
  CHECK_FALSE(alice_again.wait_for(R"("type":"welcome")", 5s).empty());
  CHECK(backend.calls(200) == 2);

  // A token it refuses: 401; asked once, the no remembered.
  CHECK(upgrade_status(port, "forged") == 401);
  CHECK(upgrade_status(port, "forged") == 401);
  CHECK(backend.calls(401) == 1);

  // A logout: refused once the yes has expired.
  backend.control(R"({"revoke":"token-of-alice"})");
  std::this_thread::sleep_for(2500ms);
  CHECK(upgrade_status(port, "token-of-alice") == 401);

  // The back end down: a 503 (nothing cached, nobody let in), then its answer again once it is back.
  backend.control(R"({"down":true})");
  CHECK(upgrade_status(port, "token-of-bob") == 503);
  CHECK(upgrade_status(port, "token-of-bob") == 503);
  backend.control(R"({"down":false})");
  WsClient bob_again(port, "/api/anilibria/v2/ws?token=token-of-bob");
  CHECK(bob_again.wait_for(R"("type":"welcome")", 5s).find(R"("user":"42")") != std::string::npos);

  const auto metrics = raw_http(port, http_request("GET", "/metrics")).body;
  CHECK(metrics.find(R"(anipipe_edge_user_token_checks_total{result="user",source="cache"})") != std::string::npos);
  edge->signal(SIGTERM);
  CHECK(exit_problem(*edge, 30s) == "");
}

TEST_CASE(
    "edge: a back end that refuses the edge's own service token is a 503 for the user, not a 401 (the user's token was never judged)") {
  Pipeline p;
  AuthBackend backend(p.dir());
  int port = 0;
  auto edge = p.start_edge("edge.log", port,
                           {"--user-secret", "", "--auth-validate-url", backend.url(), "--auth-service-token", "not-the-service-token"});
  INFO(edge->log_tail());
  CHECK(upgrade_status(port, "token-of-alice") == 503);
  // A flag for each way at once is refused at startup.
  const auto both = run_command(
      {edge_binary(), "--service-secret", "s", "--user-secret", "u", "--auth-validate-url", backend.url(), "--auth-service-token", "t"},
      10s);
  CHECK(both.exit_code == 2);
  CHECK(both.output.find("one way") != std::string::npos);
  edge->signal(SIGTERM);
  CHECK(exit_problem(*edge, 30s) == "");
}
