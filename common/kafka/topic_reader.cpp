#include "kafka/topic_reader.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "kafka/conf.hpp"
#include "kafka/topic_metadata.hpp"

namespace anipipe::kafka {

std::size_t read_to_end(const Settings& settings, const std::string& topic, std::vector<std::int32_t> partitions, ReadStart start,
                        const std::function<void(const Message&)>& on_record, std::chrono::milliseconds timeout) {
  auto rk = detail::make_groupless_consumer(settings, "anipipe-topic-reader");
  const int ms = static_cast<int>(timeout.count());

  if (partitions.empty()) partitions = detail::partitions_of(rk.get(), topic, timeout);

  // Where each partition ends now; records produced later are not waited for.
  std::map<std::int32_t, std::int64_t> end;
  detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (auto p : partitions) {
    const auto [lo, hi] = detail::watermarks(rk.get(), topic, p, timeout);
    if (hi <= lo) continue;
    end[p] = hi;
    const std::int64_t from = start.kind == ReadStart::Kind::tail ? std::max(lo, hi - start.count) : lo;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = from;
  }
  if (end.empty()) return 0;
  if (auto err = rd_kafka_assign(rk.get(), assignment.get()))
    throw std::runtime_error(std::string("assign failed: ") + rd_kafka_err2str(err));

  std::size_t count = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!end.empty()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("reading " + topic + " did not reach the end within " + std::to_string(ms) + " ms");
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk.get(), 100);
    if (!raw) continue;
    Message m(raw);
    auto it = end.find(m.partition());
    if (m.is_partition_eof()) {
      // With transactions the last offsets can be control records: EOF is the reliable end.
      if (it != end.end()) end.erase(it);
      continue;
    }
    if (m.is_error()) throw std::runtime_error("reading " + topic + ": " + m.error());
    if (it == end.end()) continue;
    on_record(m);
    ++count;
    if (m.offset() + 1 >= it->second) end.erase(it);
  }
  rd_kafka_consumer_close(rk.get());
  return count;
}

Readable readable_from(const Settings& settings, const std::string& topic, std::int32_t partition, std::int64_t from, std::int64_t cap,
                       std::chrono::milliseconds timeout) {
  Readable out;
  auto rk = detail::make_groupless_consumer(settings, "anipipe-topic-reader");
  const auto [lo, hi] = detail::watermarks(rk.get(), topic, partition, timeout);
  const auto start = std::max(from, lo);
  if (start >= hi) return out;
  detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = start;
  if (auto err = rd_kafka_assign(rk.get(), assignment.get()))
    throw std::runtime_error(std::string("assign failed: ") + rd_kafka_err2str(err));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk.get(), 100);
    if (!raw) continue;
    Message m(raw);
    if (m.is_partition_eof()) break;
    if (m.is_error()) throw std::runtime_error("reading " + topic + ": " + m.error());
    if (out.records == 0) out.first_timestamp_ms = m.timestamp_ms();
    if (++out.records >= cap) {
      out.capped = m.offset() + 1 < hi;
      break;
    }
    if (m.offset() + 1 >= hi) break;
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace anipipe::kafka
