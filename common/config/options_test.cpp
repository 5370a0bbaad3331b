#include <doctest/doctest.h>

#include <cstdlib>

#include "config/options.hpp"

using anipipe::config::WorkerOptions;

namespace {
WorkerOptions parse(std::vector<std::string> args) {
  CLI::App app{"test"};
  WorkerOptions o;
  anipipe::config::add_worker_options(app, o, "anipipe-test");
  std::vector<char*> argv{const_cast<char*>("test")};
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return o;
}
}  // namespace

TEST_CASE("defaults") {
  auto o = parse({});
  CHECK(o.group == "anipipe-test");
  CHECK(o.kafka.brokers == "127.0.0.1:9092");
  CHECK(o.dlq_topic == "anilibria.dlq");
  CHECK(o.max_attempts == 5);
}

TEST_CASE("flags, environment and --kafka pass-through - flags win") {
  setenv("ANIPIPE_GROUP", "from-env", 1);
  setenv("ANIPIPE_KAFKA_SOCKET_NAGLE_DISABLE", "true", 1);
  setenv("ANIPIPE_KAFKA_LINGER_MS", "50", 1);
  auto o = parse({"--brokers", "127.0.0.1:19092", "--kafka", "linger.ms=7", "--kafka", "acks=all"});
  unsetenv("ANIPIPE_GROUP");
  unsetenv("ANIPIPE_KAFKA_SOCKET_NAGLE_DISABLE");
  unsetenv("ANIPIPE_KAFKA_LINGER_MS");
  CHECK(o.group == "from-env");
  CHECK(o.kafka.brokers == "127.0.0.1:19092");
  CHECK(o.kafka.overrides.at("socket.nagle.disable") == "true");
  CHECK(o.kafka.overrides.at("linger.ms") == "7");
  CHECK(o.kafka.overrides.at("acks") == "all");
}

TEST_CASE("a malformed --kafka pair and an out-of-range value are usage errors") {
  CHECK_THROWS_AS(parse({"--kafka", "novalue"}), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--max-attempts", "0"}), CLI::ValidationError);
}
