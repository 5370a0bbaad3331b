#pragma once
// Client settings shared by producers, consumers and the admin client: the bootstrap servers plus
// any librdkafka property by its documented name (CONFIGURATION.md), passed through unchanged.
#include <map>
#include <string>

namespace anipipe::kafka {

struct Settings {
  std::string brokers = "127.0.0.1:9092";
  std::string client_id = "anipipe";
  /// librdkafka properties applied last, so an operator can override any default we pick.
  std::map<std::string, std::string> overrides;
};

}  // namespace anipipe::kafka
