#pragma once
// A consumed record. It owns librdkafka's buffer, so the views it hands out stay valid as long
// as the Message lives: copy out anything kept longer.
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/event_headers.hpp"

struct rd_kafka_message_s;

namespace anipipe::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = -1;
  auto operator<=>(const TopicPartition&) const = default;  // NOLINT(modernize-use-nullptr): a clang-tidy 14 false positive
  std::string to_string() const { return topic + "[" + std::to_string(partition) + "]"; }
};

/// A partition's offset with its metadata string: one to commit, or the group's committed one
/// (offset < 0: none).
struct PartitionOffset {
  TopicPartition tp;
  std::int64_t offset = -1;
  std::string metadata;
};

/// A logical offset for seek(): the partition's first available record (RD_KAFKA_OFFSET_BEGINNING).
inline constexpr std::int64_t kOffsetBeginning = -2;

class Message {
public:
  struct Release {
    void operator()(rd_kafka_message_s* m) const noexcept;
  };
  explicit Message(rd_kafka_message_s* m) : msg_(m) {}

  bool is_error() const;
  std::string error() const;
  bool is_partition_eof() const;

  std::string_view topic() const;
  std::int32_t partition() const;
  std::int64_t offset() const;
  TopicPartition topic_partition() const { return {std::string(topic()), partition()}; }
  std::optional<std::string_view> key() const;
  /// nullopt is a tombstone (a null value); an empty value is "".
  std::optional<std::string_view> value() const;
  std::int64_t timestamp_ms() const;  // -1 when the broker did not set one
  /// Last value of a header, if present.
  std::optional<std::string_view> header(std::string_view name) const;
  EventHeaders event_headers() const;

private:
  std::unique_ptr<rd_kafka_message_s, Release> msg_;
};

/// A record to produce. A value of nullopt produces a tombstone.
struct OutRecord {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;
  EventHeaders headers;
  std::int32_t partition = -1;  // -1: the configured partitioner (murmur2_random, Java-compatible) picks
  /// Extra headers beyond the standard ones (e.g. the dead-letter provenance).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

}  // namespace anipipe::kafka
