#include "kafka/partition_range.hpp"

#include <stdexcept>

#include "kafka/conf.hpp"
#include "kafka/topic_metadata.hpp"

namespace anipipe::kafka {

RangeRead read_range(const Settings& settings, const std::string& topic, std::int32_t partition, std::int64_t from, std::int64_t to,
                     const std::function<void(const Message&)>& on_record, std::chrono::milliseconds timeout) {
  RangeRead out;
  auto rk = detail::make_groupless_consumer(settings, "anipipe-range-reader");
  std::tie(out.log_start, out.log_end) = detail::watermarks(rk.get(), topic, partition, timeout);
  if (from < out.log_start || from >= out.log_end || from > to) return out;
  detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = from;
  if (auto err = rd_kafka_assign(rk.get(), assignment.get()))
    throw std::runtime_error(std::string("assign failed: ") + rd_kafka_err2str(err));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("reading " + topic + " did not reach offset " + std::to_string(to) + " in time");
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk.get(), 100);
    if (!raw) continue;
    Message m(raw);
    // Under read_committed the last offsets can be transaction markers: the end event is the end.
    if (m.is_partition_eof()) break;
    if (m.is_error()) throw std::runtime_error("reading " + topic + ": " + m.error());
    if (m.offset() > to) break;
    on_record(m);
    ++out.records;
    if (m.offset() >= to) break;
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::int32_t partition_for_key(std::string_view key, std::int32_t partitions, Partitioner partitioner) {
  if (partitions <= 0) return -1;
  // librdkafka's own partitioners: for a non-empty key they read neither the topic handle nor the opaques.
  return partitioner == Partitioner::murmur2
             ? rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr, nullptr)
             : rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

}  // namespace anipipe::kafka
