#pragma once
#include <map>
#include <string>
#include <string_view>

#include "kafka/handles.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka::detail {

/// Whether a librdkafka property holds a secret (passwords, keys, OAuth config): its value never
/// appears in an error or a log line.
bool is_secret_property(std::string_view key);
/// The value as errors show it: masked for secret properties.
std::string shown_value(std::string_view key, std::string_view value);

/// Builds a librdkafka configuration: our defaults, then settings.overrides.
/// Throws std::invalid_argument naming the property when librdkafka rejects one.
ConfPtr make_conf(const Settings& settings, const std::map<std::string, std::string>& defaults);

/// Wraps rd_kafka_new; throws with librdkafka's message on failure (the conf is consumed either way).
HandlePtr make_handle(rd_kafka_type_t type, ConfPtr conf);

/// Throws kafka::FatalError (what: `who`, librdkafka's reason) if the handle has raised a fatal error.
void throw_if_fatal(rd_kafka_t* rk, const char* who);

}  // namespace anipipe::kafka::detail
