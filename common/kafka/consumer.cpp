#include "kafka/consumer.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kafka/conf.hpp"
#include "kafka/consumer_access.hpp"

namespace anipipe::kafka {

struct Consumer::Impl {
  detail::HandlePtr rk;
  detail::QueuePtr priority;  // declared after rk: destroyed before it
  std::set<std::string> priority_topics;
  Consumer* owner = nullptr;
  std::function<void(std::string_view)> on_stats;

  static std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* parts) {
    std::vector<TopicPartition> out;
    out.reserve(static_cast<std::size_t>(parts->cnt));
    for (int i = 0; i < parts->cnt; ++i) out.push_back({parts->elems[i].topic, parts->elems[i].partition});
    return out;
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    Consumer& c = *self->owner;
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    auto tps = to_vector(parts);
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) detail::ErrorPtr(rd_kafka_incremental_assign(rk, parts));
        else rd_kafka_assign(rk, parts);
        c.joined_ = true;
        for (auto& tp : tps) {
          c.assigned_.insert(tp);
          if (self->priority && self->priority_topics.count(tp.topic)) {
            detail::QueuePtr q(rd_kafka_queue_get_partition(rk, tp.topic.c_str(), tp.partition));
            if (q) rd_kafka_queue_forward(q.get(), self->priority.get());
          }
        }
        if (c.listener_) c.listener_->on_assigned(tps);
      } else {
        const bool lost = rd_kafka_assignment_lost(rk);
        if (c.listener_) c.listener_->on_revoking(tps, lost);
        // Commit on revoke: whatever the listener stored becomes the next owner's start position.
        if (!lost) rd_kafka_commit(rk, nullptr, 0);
        if (cooperative) detail::ErrorPtr(rd_kafka_incremental_unassign(rk, parts));
        else rd_kafka_assign(rk, nullptr);
        for (auto& tp : tps) {
          c.assigned_.erase(tp);
          c.paused_.erase(tp);
          c.owed_rewinds_.erase(tp);
        }
      }
    } catch (...) {
      std::terminate();  // nothing may unwind through librdkafka
    }
  }

  static int on_stats_cb(rd_kafka_t*, char* json, size_t len, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (self->on_stats) {
      try {
        self->on_stats(std::string_view(json, len));
      } catch (...) {
      }
    }
    return 0;  // librdkafka frees json
  }
};

rd_kafka_t* detail::ConsumerAccess::handle(const Consumer& c) { return c.impl_->rk.get(); }

Consumer::Consumer(const Settings& settings, Options options, RebalanceListener* listener)
    : impl_(std::make_unique<Impl>()), listener_(listener) {
  if (options.group_id.empty()) throw std::invalid_argument("a consumer needs a group id (--group / ANIPIPE_GROUP)");
  std::map<std::string, std::string> defaults = {
      {"group.id", options.group_id},
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", options.auto_offset_reset},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"},
      {"enable.partition.eof", options.partition_eof ? "true" : "false"},
      {"socket.nagle.disable", "true"},
      {"fetch.wait.max.ms", "100"},
  };
  if (!options.group_instance_id.empty()) {
    defaults["group.instance.id"] = options.group_instance_id;
    // A static member that restarts rejoins under its id and gets its partitions back at once;
    // the session timeout only decides how long the partitions of an instance that died for good
    // (or was stopped: static members do not leave the group) wait before the others take them.
    defaults["session.timeout.ms"] = "30000";
  }
  if (options.on_stats && !settings.overrides.count("statistics.interval.ms")) defaults["statistics.interval.ms"] = "5000";
  for (const auto& [k, v] : options.defaults) defaults[k] = v;
  auto conf = detail::make_conf(settings, defaults);
  impl_->owner = this;
  impl_->on_stats = std::move(options.on_stats);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
  if (impl_->on_stats) rd_kafka_conf_set_stats_cb(conf.get(), &Impl::on_stats_cb);
  impl_->rk = detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(impl_->rk.get());
  if (!options.priority_topics.empty()) {
    impl_->priority.reset(rd_kafka_queue_new(impl_->rk.get()));
    impl_->priority_topics = std::move(options.priority_topics);
  }

  detail::PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
  for (const auto& t : options.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(impl_->rk.get(), topics.get()))
    throw std::runtime_error(std::string("subscribe failed: ") + rd_kafka_err2str(err));
}

Consumer::~Consumer() {
  try {
    close();
  } catch (...) {
  }
}

std::optional<Message> Consumer::poll(std::chrono::milliseconds timeout) {
  auto m = next(timeout);
  // librdkafka reports a fatal error once, as an error event among the records; the handle stays
  // in that state, so asking it is enough.
  if (m && m->is_error()) detail::throw_if_fatal(impl_->rk.get(), "consumer");
  return m;
}

std::optional<Message> Consumer::next(std::chrono::milliseconds timeout) {
  if (!impl_->priority) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), static_cast<int>(timeout.count()));
    if (!m) return std::nullopt;
    return Message(m);
  }
  // The consumer queue must still be polled (rebalances, errors, max.poll.interval.ms), in short
  // slices so that a priority record arriving meanwhile waits at most one slice.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (rd_kafka_message_t* m = rd_kafka_consume_queue(impl_->priority.get(), 0)) return Message(m);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto slice = std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(5));
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), static_cast<int>(slice.count()))) return Message(m);
    if (left.count() <= 0) return std::nullopt;
  }
}

std::optional<Message> Consumer::poll_priority() {
  if (!impl_->priority) return std::nullopt;
  rd_kafka_message_t* raw = rd_kafka_consume_queue(impl_->priority.get(), 0);
  if (!raw) return std::nullopt;
  Message m(raw);
  if (m.is_error()) detail::throw_if_fatal(impl_->rk.get(), "consumer");
  return m;
}

std::vector<PartitionOffset> Consumer::committed(const std::vector<TopicPartition>& tps, std::chrono::milliseconds timeout) const {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& tp : tps) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  if (auto err = rd_kafka_committed(impl_->rk.get(), list.get(), static_cast<int>(timeout.count())))
    throw std::runtime_error(std::string("committed offsets: ") + rd_kafka_err2str(err));
  std::vector<PartitionOffset> out;
  out.reserve(tps.size());
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    if (p.err) throw std::runtime_error("committed offset of " + std::string(p.topic) + ": " + rd_kafka_err2str(p.err));
    PartitionOffset o{{p.topic, p.partition}, p.offset, {}};
    if (p.metadata && p.metadata_size) o.metadata.assign(static_cast<const char*>(p.metadata), p.metadata_size);
    out.push_back(std::move(o));
  }
  return out;
}

void Consumer::store_offset(const TopicPartition& tp, std::int64_t next_offset) {
  // Storing for a partition we no longer own would be refused by librdkafka anyway; skip quietly.
  if (!assigned_.count(tp)) return;
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = next_offset;
  rd_kafka_offsets_store(impl_->rk.get(), list.get());
}

bool Consumer::commit(std::string* error) {
  auto err = rd_kafka_commit(impl_->rk.get(), nullptr, 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  if (error) *error = rd_kafka_err2str(err);
  return false;
}

void Consumer::pause(const TopicPartition& tp) {
  if (paused_.count(tp) || !assigned_.count(tp)) return;
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  rd_kafka_pause_partitions(impl_->rk.get(), list.get());
  paused_.insert(tp);
}

bool Consumer::resume(const TopicPartition& tp) {
  if (!paused_.count(tp)) return true;
  if (auto owed = owed_rewinds_.find(tp); owed != owed_rewinds_.end()) {
    if (!seek(tp, owed->second)) return false;
    owed_rewinds_.erase(owed);
  }
  paused_.erase(tp);
  if (!assigned_.count(tp)) return true;
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  rd_kafka_resume_partitions(impl_->rk.get(), list.get());
  return true;
}

void Consumer::rewind(const TopicPartition& tp, std::int64_t offset) {
  if (!assigned_.count(tp)) return;
  pause(tp);
  if (seek(tp, offset)) owed_rewinds_.erase(tp);
  else owed_rewinds_[tp] = offset;
}

bool Consumer::seek(const TopicPartition& tp, std::int64_t offset) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  detail::ErrorPtr err(rd_kafka_seek_partitions(impl_->rk.get(), list.get(), 10'000));
  if (!err && !list->elems[0].err) return true;
  // The seek can race a rebalance that takes the partition away (its revoke may even run while
  // the seek waits): then there is nothing to rewind.
  if (!assigned_.count(tp)) return true;
  spdlog::warn("seek {} to {} failed ({}); the partition stays paused until it lands", tp.to_string(), offset,
               err ? rd_kafka_error_string(err.get()) : rd_kafka_err2str(list->elems[0].err));
  return false;
}

std::string Consumer::member_id() const {
  char* id = rd_kafka_memberid(impl_->rk.get());
  std::string out = id ? id : "";
  if (id) rd_kafka_mem_free(impl_->rk.get(), id);
  return out;
}

std::pair<std::int64_t, std::int64_t> Consumer::watermarks(const TopicPartition& tp) const {
  int64_t lo = -1, hi = -1;
  rd_kafka_get_watermark_offsets(impl_->rk.get(), tp.topic.c_str(), tp.partition, &lo, &hi);
  return {lo, hi};
}

std::pair<std::int64_t, std::int64_t> Consumer::query_watermarks(const TopicPartition& tp, std::chrono::milliseconds timeout) const {
  int64_t lo = -1, hi = -1;
  auto err = rd_kafka_query_watermark_offsets(impl_->rk.get(), tp.topic.c_str(), tp.partition, &lo, &hi, static_cast<int>(timeout.count()));
  if (err) throw std::runtime_error("watermarks of " + tp.to_string() + ": " + rd_kafka_err2str(err));
  return {lo, hi};
}

void Consumer::close() {
  if (closed_ || !impl_ || !impl_->rk) return;
  closed_ = true;
  // librdkafka < 2.2 asserts in the cooperative-sticky assignor when a member closes before its
  // first assignment arrived (librdkafka #4312): a worker stopped while the group is still forming
  // would abort instead of leaving. Let the join finish first (bounded); nothing fetched in this
  // window is processed or stored, so it is consumed again by whoever owns it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!joined_ && std::chrono::steady_clock::now() < deadline)
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), 100)) rd_kafka_message_destroy(m);
  if (rd_kafka_fatal_error(impl_->rk.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A fenced member can neither commit nor leave; closing would only wait on what cannot happen.
    impl_->priority.reset();
    rd_kafka_destroy_flags(impl_->rk.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return;
  }
  // rd_kafka_consumer_close runs the final revoke (our callback commits) and leaves the group.
  rd_kafka_consumer_close(impl_->rk.get());
}

}  // namespace anipipe::kafka
