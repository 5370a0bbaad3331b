#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "kafka/conf.hpp"

using anipipe::kafka::Settings;
using anipipe::kafka::detail::is_secret_property;
using anipipe::kafka::detail::make_conf;

TEST_CASE("a rejected Kafka property is named in the error, but a secret's value never appears") {
  auto error_of = [](const std::string& key, const std::string& value) {
    Settings s;
    s.overrides[key] = value;
    try {
      make_conf(s, {});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // Not a property of this librdkafka (a typo, or a newer version's): rejected, the value shown.
  const auto plain = error_of("sasl.mechanizm", "PLAIN");
  CHECK(plain.find("sasl.mechanizm=PLAIN") != std::string::npos);
  // The same with a secret: the key and the value's length, never the value.
  const auto secret = error_of("sasl.passwrd", "hunter2-very-secret");
  INFO(secret);
  CHECK(secret.find("sasl.passwrd=(19 characters, not shown)") != std::string::npos);
  CHECK(secret.find("hunter2") == std::string::npos);
}

TEST_CASE("which properties hold secrets") {
  for (const char* k : {"sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.config",
                        "sasl.oauthbearer.client.secret", "ssl.key.pem"})
    CHECK_MESSAGE(is_secret_property(k), k);
  for (const char* k : {"bootstrap.servers", "sasl.username", "linger.ms", "ssl.ca.location"}) CHECK_MESSAGE(!is_secret_property(k), k);
}
