#include "kafka/topic_reader.hpp"

#include <map>
#include <stdexcept>
#include <thread>

#include "kafka/conf.hpp"

namespace anipipe::kafka {

std::size_t read_to_end(const Settings& settings, const std::string& topic, std::vector<std::int32_t> partitions,
                        ReadStart start, const std::function<void(const Message&)>& on_record,
                        std::chrono::milliseconds timeout) {
  auto conf = detail::make_conf(settings, {
      {"group.id", "anipipe-topic-reader"},  // required by librdkafka; never joined (assign, no subscribe)
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"fetch.wait.max.ms", "50"},
  });
  auto rk = detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  const int ms = static_cast<int>(timeout.count());

  if (partitions.empty()) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    auto err = rd_kafka_metadata(rk.get(), 0, rkt, &md, ms);
    rd_kafka_topic_destroy(rkt);
    if (err) throw std::runtime_error("metadata of " + topic + ": " + rd_kafka_err2str(err));
    if (md->topic_cnt == 1 && !md->topics[0].err)
      for (int i = 0; i < md->topics[0].partition_cnt; ++i) partitions.push_back(md->topics[0].partitions[i].id);
    const bool missing = md->topic_cnt != 1 || md->topics[0].err;
    rd_kafka_metadata_destroy(md);
    if (missing) throw std::runtime_error("topic " + topic + " does not exist (run anipipe-ops topics apply)");
  }

  // Where each partition ends now; records produced later are not waited for.
  std::map<std::int32_t, std::int64_t> end;
  detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (auto p : partitions) {
    int64_t lo = 0, hi = 0;
    // A topic created a moment ago may not have its leaders yet: wait for them, within the timeout.
    const auto leader_deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, ms);
      if (!err) break;
      const bool transient = err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                             err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__TRANSPORT;
      if (!transient || std::chrono::steady_clock::now() > leader_deadline)
        throw std::runtime_error("watermarks of " + topic + "[" + std::to_string(p) + "]: " + rd_kafka_err2str(err));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
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

}  // namespace anipipe::kafka
