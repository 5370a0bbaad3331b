#include "kafka/conf.hpp"

#include <stdexcept>

#include "kafka/fatal_error.hpp"

namespace anipipe::kafka::detail {

ConfPtr make_conf(const Settings& settings, const std::map<std::string, std::string>& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw std::invalid_argument("Kafka property " + k + "=" + v + " rejected: " + err +
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
  conf.release();  // rd_kafka_new took ownership
  return HandlePtr(rk);
}

void throw_if_fatal(rd_kafka_t* rk, const char* who) {
  char reason[512];
  if (rd_kafka_fatal_error(rk, reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw FatalError(std::string(who) + " fatal error: " + reason);
}

}  // namespace anipipe::kafka::detail
