#include "webhook_receiver.hpp"

#include <signal.h>

#include <fstream>
#include <functional>
#include <stdexcept>

#include <simdjson.h>

#include "json/json_writer.hpp"
#include "kafka_helpers.hpp"
#include "raw_http.hpp"

namespace anipipe::testing {

WebhookReceiver::WebhookReceiver(std::string dir, std::string secret, int status)
    : dir_(std::move(dir)), secret_(std::move(secret)), status_(status) {
  start();
}

std::string WebhookReceiver::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/internal/anilibria/notify"; }

void WebhookReceiver::start() {
  const std::string port_file = dir_ + "/webhook.port." + std::to_string(++starts_);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/env", "python3", source_dir() + "/tests/webhook_receiver/webhook_receiver.py", "--port",
                               std::to_string(port_), "--port-file", port_file, "--secret", secret_, "--log",
                               dir_ + "/webhook_calls.ndjson", "--status", std::to_string(status_), "--quiet"},
      dir_ + "/webhook_receiver.log");
  int port = 0;
  if (!eventually([&] { return std::ifstream(port_file) >> port && port > 0; }, std::chrono::seconds(15)))
    throw std::runtime_error("webhook receiver did not start: " + process_->log_tail());
  port_ = port;
}

void WebhookReceiver::stop() {
  process_->signal(SIGKILL);
  process_->wait_for(std::chrono::seconds(5));
}

namespace {
/// Calls `each` with every complete JSON line of a receiver's log.
void for_each_logged(const std::string& path, const std::function<void(simdjson::dom::element)>& each) {
  std::ifstream in(path);
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) continue;  // a line being written right now
    each(doc);
  }
}
}  // namespace

std::vector<WebhookCallSeen> WebhookReceiver::calls() const {
  std::vector<WebhookCallSeen> out;
  for_each_logged(dir_ + "/webhook_calls.ndjson", [&](simdjson::dom::element doc) {
    WebhookCallSeen c;
    c.verified = doc["verified"].get_bool().value_unsafe();
    std::string_view s;
    if (!doc["event_id"].get(s)) c.event_id = std::string(s);
    if (!doc["idempotency_key"].get(s)) c.idempotency_key = std::string(s);
    c.body = simdjson::minify(doc["body"]);
    out.push_back(std::move(c));
  });
  return out;
}

namespace {
std::string accepts_json(const SeedReceiver::Accepts& accepts) {
  std::string out = R"({"tokens":[)";
  for (std::size_t i = 0; i < accepts.tokens.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, accepts.tokens[i]);
  }
  out += R"(],"jwt_secret":)";
  json::append_quoted(out, accepts.jwt_secret);
  return out + "}";
}

std::string text_or_empty(simdjson::dom::element doc, const char* field) {
  std::string_view s;
  return doc[field].get(s) ? std::string() : std::string(s);
}

std::int64_t int_or_zero(simdjson::dom::element doc, const char* field) {
  std::int64_t n = 0;
  return doc[field].get(n) ? 0 : n;
}

SeedCall seed_call(simdjson::dom::element doc) {
  SeedCall c;
  c.status = static_cast<int>(int_or_zero(doc, "status"));
  c.auth = text_or_empty(doc, "auth");
  c.error = text_or_empty(doc, "error");
  bool hmac_ok = false;
  c.hmac_ok = !doc["signed"].get(hmac_ok) && hmac_ok;
  c.idempotency_key = text_or_empty(doc, "idempotency_key");
  const simdjson::dom::element body = doc["body"];
  c.body = simdjson::minify(body);
  if (body.is_object()) {
    c.type = text_or_empty(body, "type");
    c.title_id = int_or_zero(body, "title_id");
  }
  simdjson::dom::element claims;
  if (!doc["claims"].get(claims) && claims.is_object()) {
    c.jwt_iss = text_or_empty(claims, "iss");
    c.jwt_service = text_or_empty(claims, "service");
    c.jwt_iat = int_or_zero(claims, "iat");
    c.jwt_exp = int_or_zero(claims, "exp");
  }
  return c;
}
}  // namespace

SeedReceiver::SeedReceiver(std::string dir, Accepts accepts, std::string hmac_secret) : dir_(std::move(dir)) {
  const std::string port_file = dir_ + "/seed_receiver.port";
  std::vector<std::string> argv{"/usr/bin/env",
                                "node",
                                source_dir() + "/tests/node/notify_receiver.js",
                                "--port-file",
                                port_file,
                                "--log",
                                dir_ + "/seed_calls.ndjson",
                                "--hmac-secret",
                                hmac_secret};
  for (const auto& t : accepts.tokens) argv.insert(argv.end(), {"--token", t});
  if (!accepts.jwt_secret.empty()) argv.insert(argv.end(), {"--jwt-secret", accepts.jwt_secret});
  process_ = std::make_unique<Process>(argv, dir_ + "/seed_receiver.log");
  int port = 0;
  if (!eventually([&] { return std::ifstream(port_file) >> port && port > 0; }, std::chrono::seconds(15)))
    throw std::runtime_error("the Node.js receiver did not start: " + process_->log_tail());
  port_ = port;
}

std::string SeedReceiver::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/internal/anilibria/notify"; }

void SeedReceiver::accept(const Accepts& accepts) {
  const auto body = accepts_json(accepts);
  const auto r = raw_http(port_, http_request("POST", "/_control", {{"Content-Type", "application/json"}}, body));
  if (r.status != 200) throw std::runtime_error("the Node.js receiver refused /_control: " + std::to_string(r.status) + " " + r.body);
}

std::vector<SeedCall> SeedReceiver::calls() const {
  std::vector<SeedCall> out;
  for_each_logged(dir_ + "/seed_calls.ndjson", [&](simdjson::dom::element doc) { out.push_back(seed_call(doc)); });
  return out;
}

}  // namespace anipipe::testing
