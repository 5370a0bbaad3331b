#include "kafka/conf.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

#include "kafka/fatal_error.hpp"

namespace anipipe::kafka::detail {

bool is_secret_property(std::string_view key) {
  // Passwords, keys, tokens and the OAuth config that embeds a client secret (CONFIGURATION.md);
  // loosely, so a misspelt key ("sasl.passwrd", rejected as unknown) is masked too.
  for (std::string_view part : {"pass", "secret", "oauthbearer.config", "ssl.key", "ssl_key", "keystore", "token"})
    if (key.find(part) != std::string_view::npos) return true;
  return false;
}

std::string shown_value(std::string_view key, std::string_view value) {
  return is_secret_property(key) ? "(" + std::to_string(value.size()) + " characters, not shown)" : std::string(value);
}

namespace {
/// librdkafka's own message may quote the value: never let a secret through that way either.
std::string masked(std::string text, const std::string& value) {
  if (value.size() < 4) return text;
  for (auto at = text.find(value); at != std::string::npos; at = text.find(value, at)) text.replace(at, value.size(), "***");
  return text;
}
}  // namespace

ConfPtr make_conf(const Settings& settings, const std::map<std::string, std::string>& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw std::invalid_argument("Kafka property " + k + "=" + shown_value(k, v) + " rejected: " + masked(err, v) +
                                  ". Hint: names and values are librdkafka's (CONFIGURATION.md).");
  };
  set("bootstrap.servers", settings.brokers);
  set("client.id", settings.client_id);
  for (const auto& [k, v] : defaults) set(k, v);
  for (const auto& [k, v] : settings.overrides) set(k, v);
  return conf;
}

HandlePtr make_handle(rd_kafka_type_t type, ConfPtr conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("cannot create Kafka client: ") + err);
  (void)conf.release();  // rd_kafka_new took ownership
  return HandlePtr(rk);
}

void throw_if_fatal(rd_kafka_t* rk, const char* who) {
  char reason[512];
  if (rd_kafka_fatal_error(rk, reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw FatalError(std::string(who) + " fatal error: " + reason);
}

}  // namespace anipipe::kafka::detail
