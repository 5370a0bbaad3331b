#pragma once
// Lets the producer (transactions) reach the consumer's handle without exposing it to workers.
#include "kafka/consumer.hpp"
#include "kafka/handles.hpp"

namespace anipipe::kafka::detail {

struct ConsumerAccess {
  static rd_kafka_t* handle(const Consumer& c);
};

}  // namespace anipipe::kafka::detail
