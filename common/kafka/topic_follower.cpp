#include "kafka/topic_follower.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "kafka/conf.hpp"
#include "kafka/topic_metadata.hpp"

namespace anipipe::kafka {

struct TopicFollower::Impl {
  std::string topic;
  std::function<void(const Message&)> on_record;
  detail::HandlePtr rk;
  // Watermark queries go through a handle that never fetches: on rk they would queue behind its
  // long-poll fetches (fetch.wait.max.ms per partition asked).
  detail::HandlePtr meta;
  std::map<std::int32_t, std::int64_t> next;  // the offset after the last one applied (or the end seen)
  std::uint64_t applied = 0;

  // One fetched record or end-of-partition event applied; false if nothing came within wait.
  bool step(std::chrono::milliseconds wait) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk.get(), static_cast<int>(wait.count()));
    if (!raw) return false;
    Message m(raw);
    if (m.is_partition_eof()) {
      // Under read_committed the last offsets can be transaction markers: the end event is where
      // the partition really ends.
      auto& n = next[m.partition()];
      n = std::max(n, m.offset());
      return true;
    }
    if (m.is_error()) throw std::runtime_error("following " + topic + ": " + m.error());
    on_record(m);
    ++applied;
    next[m.partition()] = m.offset() + 1;
    return true;
  }
};

TopicFollower::TopicFollower(const Settings& settings, std::string topic, std::function<void(const Message&)> on_record, From from,
                             std::chrono::milliseconds metadata_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->topic = std::move(topic);
  impl_->on_record = std::move(on_record);
  impl_->rk = detail::make_groupless_consumer(settings, "anipipe-topic-follower");
  impl_->meta = detail::make_groupless_consumer(settings, "anipipe-topic-follower");
  const auto partitions = detail::partitions_of(impl_->rk.get(), impl_->topic, metadata_timeout);
  detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (auto p : partitions) {
    // From the end: the end as of now, as an offset. OFFSET_END would be resolved at the first
    // fetch, after catch_up may already have returned on an empty partition, so a record
    // produced in between was skipped though the follower said it stood before it.
    const auto start = from == From::beginning ? RD_KAFKA_OFFSET_BEGINNING
                                               : detail::watermarks(impl_->meta.get(), impl_->topic, p, metadata_timeout).second;
    rd_kafka_topic_partition_list_add(assignment.get(), impl_->topic.c_str(), p)->offset = start;
    impl_->next[p] = from == From::beginning ? 0 : start;
  }
  if (auto err = rd_kafka_assign(impl_->rk.get(), assignment.get()))
    throw std::runtime_error("following " + impl_->topic + ": assign failed: " + rd_kafka_err2str(err));
}

TopicFollower::~TopicFollower() {
  if (!impl_) return;
  if (impl_->rk) rd_kafka_consumer_close(impl_->rk.get());
  if (impl_->meta) rd_kafka_consumer_close(impl_->meta.get());
}

std::size_t TopicFollower::catch_up(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<std::int32_t, std::int64_t> target;
  for (const auto& [p, n] : impl_->next) target[p] = detail::watermarks(impl_->meta.get(), impl_->topic, p, timeout).second;
  const auto before = impl_->applied;
  for (;;) {
    const bool behind = std::any_of(target.begin(), target.end(), [&](const auto& t) { return impl_->next[t.first] < t.second; });
    if (!behind) return impl_->applied - before;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("following " + impl_->topic + ": the end was not reached within " + std::to_string(timeout.count()) + " ms");
    impl_->step(std::chrono::milliseconds(100));
  }
}

std::size_t TopicFollower::poll(std::chrono::milliseconds wait) {
  const auto before = impl_->applied;
  for (auto w = wait; impl_->step(w); w = std::chrono::milliseconds(0)) {
  }
  return impl_->applied - before;
}

std::int64_t TopicFollower::lag() const {
  std::int64_t total = 0;
  for (const auto& [p, n] : impl_->next) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(impl_->rk.get(), impl_->topic.c_str(), p, &lo, &hi) || hi < 0) continue;
    total += std::max<std::int64_t>(0, hi - std::max(n, lo));
  }
  return total;
}

std::uint64_t TopicFollower::applied() const { return impl_->applied; }

}  // namespace anipipe::kafka

namespace anipipe::kafka {

std::map<std::int32_t, std::int64_t> TopicFollower::positions() const { return impl_->next; }

std::string TopicFollower::cluster_id(std::chrono::milliseconds timeout) const {
  // rk learned it with the topic's partitions: no round trip.
  char* id = rd_kafka_clusterid(impl_->rk.get(), static_cast<int>(timeout.count()));
  if (!id) throw std::runtime_error("following " + impl_->topic + ": the cluster id is not known yet");
  std::string out(id);
  rd_kafka_mem_free(impl_->rk.get(), id);
  return out;
}

}  // namespace anipipe::kafka
