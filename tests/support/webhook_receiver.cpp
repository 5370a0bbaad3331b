#include "webhook_receiver.hpp"

#include <signal.h>

#include <fstream>
#include <stdexcept>

#include <simdjson.h>

#include "kafka_helpers.hpp"

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

std::vector<WebhookCallSeen> WebhookReceiver::calls() const {
  std::vector<WebhookCallSeen> out;
  std::ifstream in(dir_ + "/webhook_calls.ndjson");
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) continue;  // a line being written right now
    WebhookCallSeen c;
    c.verified = doc["verified"].get_bool().value_unsafe();
    std::string_view s;
    if (!doc["event_id"].get(s)) c.event_id = std::string(s);
    if (!doc["idempotency_key"].get(s)) c.idempotency_key = std::string(s);
    c.body = simdjson::minify(doc["body"]);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace anipipe::testing
