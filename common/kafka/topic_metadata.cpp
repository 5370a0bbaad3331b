#include "kafka/topic_metadata.hpp"

#include <stdexcept>
#include <thread>

#include "kafka/conf.hpp"

namespace anipipe::kafka::detail {

HandlePtr make_groupless_consumer(const Settings& settings, const char* group_id) {
  auto conf = make_conf(settings, {
                                      {"group.id", group_id},  // required by librdkafka; never joined (assign, no subscribe)
                                      {"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"isolation.level", "read_committed"},
                                      {"enable.partition.eof", "true"},
                                      {"fetch.wait.max.ms", "50"},
                                      {"socket.nagle.disable", "true"},
                                  });
  auto rk = make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

std::vector<std::int32_t> partitions_of(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
  std::vector<std::int32_t> partitions;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  auto err = rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(rkt);
  if (err) throw std::runtime_error("metadata of " + topic + ": " + rd_kafka_err2str(err));
  if (md->topic_cnt == 1 && !md->topics[0].err)
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) partitions.push_back(md->topics[0].partitions[i].id);
  const bool missing = md->topic_cnt != 1 || md->topics[0].err;
  rd_kafka_metadata_destroy(md);
  if (missing) throw std::runtime_error("topic " + topic + " does not exist (run anipipe-ops topics apply)");
  return partitions;
}

std::pair<std::int64_t, std::int64_t> watermarks(rd_kafka_t* rk, const std::string& topic, std::int32_t partition,
                                                 std::chrono::milliseconds timeout) {
  int64_t lo = 0, hi = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &lo, &hi, static_cast<int>(timeout.count()));
    if (!err) return {lo, hi};
    const bool transient = err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                           err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__TRANSPORT;
    if (!transient || std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("watermarks of " + topic + "[" + std::to_string(partition) + "]: " + rd_kafka_err2str(err));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace anipipe::kafka::detail
