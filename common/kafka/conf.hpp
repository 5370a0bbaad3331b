#pragma once
#include <map>
#include <string>

#include "kafka/handles.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka::detail {

/// Builds a librdkafka configuration: our defaults, then settings.overrides.
/// Throws std::invalid_argument naming the property when librdkafka rejects one.
ConfPtr make_conf(const Settings& settings, const std::map<std::string, std::string>& defaults);

/// Wraps rd_kafka_new; throws with librdkafka's message on failure (the conf is consumed either way).
HandlePtr make_handle(rd_kafka_type_t type, ConfPtr conf);

/// Throws kafka::FatalError (what: `who`, librdkafka's reason) if the handle has raised a fatal error.
void throw_if_fatal(rd_kafka_t* rk, const char* who);

}  // namespace anipipe::kafka::detail
