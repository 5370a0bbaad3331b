#include "kafka/message.hpp"

#include <librdkafka/rdkafka.h>

namespace anipipe::kafka {

void Message::Release::operator()(rd_kafka_message_s* m) const noexcept {
  if (m) rd_kafka_message_destroy(m);
}

bool Message::is_error() const { return msg_->err != RD_KAFKA_RESP_ERR_NO_ERROR; }
bool Message::is_partition_eof() const { return msg_->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }
std::string Message::error() const { return rd_kafka_message_errstr(msg_.get()); }

std::string_view Message::topic() const { return msg_->rkt ? rd_kafka_topic_name(msg_->rkt) : std::string_view{}; }
std::int32_t Message::partition() const { return msg_->partition; }
std::int64_t Message::offset() const { return msg_->offset; }

std::optional<std::string_view> Message::key() const {
  if (!msg_->key) return std::nullopt;
  return std::string_view(static_cast<const char*>(msg_->key), msg_->key_len);
}

std::optional<std::string_view> Message::value() const {
  if (!msg_->payload) return std::nullopt;
  return std::string_view(static_cast<const char*>(msg_->payload), msg_->len);
}

std::int64_t Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type;
  return rd_kafka_message_timestamp(msg_.get(), &type);
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg_.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const void* val = nullptr;
  size_t size = 0;
  const std::string n(name);
  if (rd_kafka_header_get_last(hdrs, n.c_str(), &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  if (!val) return std::string_view{};
  return std::string_view(static_cast<const char*>(val), size);
}

EventHeaders Message::event_headers() const {
  EventHeaders h;
  auto get = [&](const char* n) {
    auto v = header(n);
    return v ? std::string(*v) : std::string();
  };
  h.traceparent = get(header_names::traceparent);
  h.correlation_id = get(header_names::correlation_id);
  h.schema = get(header_names::schema);
  h.schema_version = get(header_names::schema_version);
  h.producer = get(header_names::producer);
  h.observed_at = get(header_names::observed_at);
  return h;
}

}  // namespace anipipe::kafka
