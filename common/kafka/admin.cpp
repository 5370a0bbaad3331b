#include "kafka/admin.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "kafka/conf.hpp"
#include "kafka/topic_metadata.hpp"

namespace anipipe::kafka {

struct Admin::Impl {
  detail::HandlePtr rk;
  detail::QueuePtr queue;
  std::chrono::milliseconds timeout;

  detail::AdminOptionsPtr options(rd_kafka_admin_op_t op) {
    detail::AdminOptionsPtr o(rd_kafka_AdminOptions_new(rk.get(), op));
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(o.get(), static_cast<int>(timeout.count()), err, sizeof err);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
      rd_kafka_AdminOptions_set_operation_timeout(o.get(), static_cast<int>(timeout.count()), err, sizeof err);
    return o;
  }

  /// Waits for the result event of the one admin request in flight.
  detail::EventPtr wait(rd_kafka_event_type_t type, const char* what) {
    detail::EventPtr ev(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 5000));
    if (!ev) throw std::runtime_error(std::string(what) + ": no answer from the broker in time");
    if (rd_kafka_event_type(ev.get()) != type)
      throw std::runtime_error(std::string(what) + ": unexpected admin event " + rd_kafka_event_name(ev.get()));
    if (auto err = rd_kafka_event_error(ev.get()))
      throw std::runtime_error(std::string(what) + " failed: " + rd_kafka_err2str(err) + ": " +
                               (rd_kafka_event_error_string(ev.get()) ? rd_kafka_event_error_string(ev.get()) : ""));
    return ev;
  }

  static void check_topic_results(const rd_kafka_topic_result_t** res, size_t n, const char* what, rd_kafka_resp_err_t tolerated) {
    for (size_t i = 0; i < n; ++i) {
      auto err = rd_kafka_topic_result_error(res[i]);
      if (err && err != tolerated) {
        const char* msg = rd_kafka_topic_result_error_string(res[i]);
        throw std::runtime_error(std::string(what) + " " + rd_kafka_topic_result_name(res[i]) + ": " + rd_kafka_err2str(err) +
                                 (msg ? std::string(" (") + msg + ")" : ""));
      }
    }
  }

  std::map<std::string, std::string> configs(const std::string& topic, bool only_overrides) {
    rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    rd_kafka_DescribeConfigs(rk.get(), &res, 1, options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS).get(), queue.get());
    rd_kafka_ConfigResource_destroy(res);
    auto ev = wait(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "describe configs");
    const auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
    size_t n = 0;
    const auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &n);
    std::map<std::string, std::string> out;
    for (size_t i = 0; i < n; ++i) {
      if (auto err = rd_kafka_ConfigResource_error(resources[i]))
        throw std::runtime_error("describe configs of " + topic + ": " + rd_kafka_err2str(err));
      size_t m = 0;
      const auto** entries = rd_kafka_ConfigResource_configs(resources[i], &m);
      for (size_t j = 0; j < m; ++j) {
        if (only_overrides && rd_kafka_ConfigEntry_source(entries[j]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
        const char* v = rd_kafka_ConfigEntry_value(entries[j]);
        out[rd_kafka_ConfigEntry_name(entries[j])] = v ? v : "";
      }
    }
    return out;
  }
};

Admin::Admin(const Settings& settings, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  auto conf = detail::make_conf(settings, {});
  impl_->rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->queue.reset(rd_kafka_queue_new(impl_->rk.get()));
  impl_->timeout = timeout;
}

Admin::~Admin() = default;

std::map<std::string, int> Admin::list_topics() {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &md, static_cast<int>(impl_->timeout.count()));
  if (err)
    throw std::runtime_error(std::string("cannot read cluster metadata: ") + rd_kafka_err2str(err) +
                             ". Hint: is the broker running (scripts/kafka status)?");
  std::map<std::string, int> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    std::string name = md->topics[i].topic;
    if (name.starts_with("__") || md->topics[i].err) continue;
    out[name] = md->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

ClusterView Admin::cluster(const std::vector<std::string>& topics) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &md, static_cast<int>(impl_->timeout.count()));
  if (err) throw std::runtime_error(std::string("cannot read cluster metadata: ") + rd_kafka_err2str(err));
  ClusterView out;
  for (int i = 0; i < md->broker_cnt; ++i) out.brokers.push_back(md->brokers[i].id);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    const std::string name = t.topic;
    const bool wanted = topics.empty() ? !name.starts_with("__") : std::find(topics.begin(), topics.end(), name) != topics.end();
    if (!wanted || t.err) continue;
    for (int p = 0; p < t.partition_cnt; ++p) {
      const auto& mp = t.partitions[p];
      PartitionPlacement placement{name, mp.id, mp.leader, {mp.replicas, mp.replicas + mp.replica_cnt}, {mp.isrs, mp.isrs + mp.isr_cnt}};
      out.partitions.push_back(std::move(placement));
    }
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

void Admin::create_topics(const std::vector<TopicSpec>& specs) {
  if (specs.empty()) return;
  std::vector<rd_kafka_NewTopic_t*> topics;
  char err[512];
  for (const auto& s : specs) {
    auto* t = rd_kafka_NewTopic_new(s.name.c_str(), s.partitions, s.replication_factor, err, sizeof err);
    if (!t) throw std::invalid_argument("topic " + s.name + ": " + err);
    for (const auto& [k, v] : s.configs) rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str());
    topics.push_back(t);
  }
  rd_kafka_CreateTopics(impl_->rk.get(), topics.data(), topics.size(), impl_->options(RD_KAFKA_ADMIN_OP_CREATETOPICS).get(),
                        impl_->queue.get());
  rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
  auto ev = impl_->wait(RD_KAFKA_EVENT_CREATETOPICS_RESULT, "create topics");
  size_t n = 0;
  const auto** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  Impl::check_topic_results(res, n, "create topic", RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
}

void Admin::delete_topics(const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::vector<rd_kafka_DeleteTopic_t*> topics;
  topics.reserve(names.size());
  for (const auto& n : names) topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
  rd_kafka_DeleteTopics(impl_->rk.get(), topics.data(), topics.size(), impl_->options(RD_KAFKA_ADMIN_OP_DELETETOPICS).get(),
                        impl_->queue.get());
  rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  auto ev = impl_->wait(RD_KAFKA_EVENT_DELETETOPICS_RESULT, "delete topics");
  size_t n = 0;
  const auto** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  Impl::check_topic_results(res, n, "delete topic", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

void Admin::create_partitions(const std::string& topic, int total) {
  char err[512];
  auto* np = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), err, sizeof err);
  if (!np) throw std::invalid_argument("partitions of " + topic + ": " + err);
  rd_kafka_CreatePartitions(impl_->rk.get(), &np, 1, impl_->options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS).get(), impl_->queue.get());
  rd_kafka_NewPartitions_destroy(np);
  auto ev = impl_->wait(RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, "create partitions");
  size_t n = 0;
  const auto** res = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev.get()), &n);
  Impl::check_topic_results(res, n, "add partitions to", RD_KAFKA_RESP_ERR_NO_ERROR);
}

void Admin::delete_records(const std::string& topic, std::int32_t partition, std::int64_t before) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = before;
  rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(list.get());
  rd_kafka_DeleteRecords(impl_->rk.get(), &del, 1, impl_->options(RD_KAFKA_ADMIN_OP_DELETERECORDS).get(), impl_->queue.get());
  rd_kafka_DeleteRecords_destroy(del);
  auto ev = impl_->wait(RD_KAFKA_EVENT_DELETERECORDS_RESULT, "delete records");
  const auto* offsets = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev.get()));
  for (int i = 0; offsets && i < offsets->cnt; ++i)
    if (auto err = offsets->elems[i].err) throw std::runtime_error("delete records of " + topic + ": " + rd_kafka_err2str(err));
}

std::map<std::string, std::string> Admin::topic_configs(const std::string& topic) { return impl_->configs(topic, false); }
std::map<std::string, std::string> Admin::topic_overrides(const std::string& topic) { return impl_->configs(topic, true); }

void Admin::alter_topic_configs(const std::string& topic, const std::map<std::string, std::string>& configs) {
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
  rd_kafka_AlterConfigs(impl_->rk.get(), &res, 1, impl_->options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS).get(), impl_->queue.get());
  rd_kafka_ConfigResource_destroy(res);
  auto ev = impl_->wait(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, "alter configs");
  size_t n = 0;
  const auto** resources = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(resources[i])) {
      const char* msg = rd_kafka_ConfigResource_error_string(resources[i]);
      throw std::runtime_error("alter configs of " + topic + ": " + rd_kafka_err2str(err) + (msg ? std::string(" (") + msg + ")" : ""));
    }
  }
}

std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> Admin::watermarks(const std::string& topic) {
  const auto ids = detail::partitions_of(impl_->rk.get(), topic, impl_->timeout);
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& [tp, marks] : watermarks(std::map<std::string, int>{{topic, static_cast<int>(ids.size())}})) out[tp.partition] = marks;
  return out;
}

std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> Admin::watermarks(const std::map<std::string, int>& topics) {
  // ListOffsets with the special times "earliest" and "latest" for every partition: batched per
  // broker, where query_watermark_offsets asks twice per partition.
  auto ask = [&](std::int64_t which) {
    detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(16));
    for (const auto& [topic, count] : topics)
      for (int p = 0; p < count; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = which;
    std::map<TopicPartition, std::int64_t> out;
    if (list->cnt == 0) return out;
    // A topic created a moment ago may not have its leaders yet: asked again within the timeout.
    const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
    for (;;) {
      auto err = rd_kafka_offsets_for_times(impl_->rk.get(), list.get(), static_cast<int>(impl_->timeout.count()));
      const rd_kafka_topic_partition_t* failed = nullptr;
      for (int i = 0; !err && i < list->cnt; ++i)
        if (list->elems[i].err) failed = &list->elems[i];
      if (!err && !failed) break;
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error(
            "watermarks" + (failed ? " of " + std::string(failed->topic) + "[" + std::to_string(failed->partition) + "]" : std::string()) +
            ": " + rd_kafka_err2str(err ? err : failed->err));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      for (int i = 0; i < list->cnt; ++i) {
        list->elems[i].offset = which;
        list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
      }
    }
    for (int i = 0; i < list->cnt; ++i) out[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
    return out;
  };
  const auto low = ask(RD_KAFKA_OFFSET_BEGINNING), high = ask(RD_KAFKA_OFFSET_END);
  std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& [tp, lo] : low) out[tp] = {lo, high.at(tp)};
  return out;
}

std::map<std::int32_t, std::int64_t> Admin::offsets_for_time(const std::string& topic, std::int64_t unix_ms) {
  const auto marks = watermarks(topic);
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(marks.size())));
  for (const auto& [p, _] : marks) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = unix_ms;
  if (auto err = rd_kafka_offsets_for_times(impl_->rk.get(), list.get(), static_cast<int>(impl_->timeout.count())))
    throw std::runtime_error("offsets for time in " + topic + ": " + rd_kafka_err2str(err));
  std::map<std::int32_t, std::int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err)
      throw std::runtime_error("offset for time of " + topic + "[" + std::to_string(e.partition) + "]: " + rd_kafka_err2str(e.err));
    // -1: no record that late; start after everything there is.
    out[e.partition] = e.offset >= 0 ? e.offset : marks.at(e.partition).second;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Admin::list_groups() {
  rd_kafka_ListConsumerGroups(impl_->rk.get(), impl_->options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS).get(), impl_->queue.get());
  auto ev = impl_->wait(RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "list groups");
  const auto* result = rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n = 0;
  const auto** groups = rd_kafka_ListConsumerGroups_result_valid(result, &n);
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < n; ++i)
    out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                     rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])));
  std::sort(out.begin(), out.end());
  return out;
}

GroupDescription Admin::describe_group(const std::string& group_id) {
  const char* groups[] = {group_id.c_str()};
  rd_kafka_DescribeConsumerGroups(impl_->rk.get(), groups, 1, impl_->options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS).get(),
                                  impl_->queue.get());
  auto ev = impl_->wait(RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, "describe group");
  size_t n = 0;
  const auto** res = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  GroupDescription d;
  d.group_id = group_id;
  if (n == 0) return d;
  if (const auto* err = rd_kafka_ConsumerGroupDescription_error(res[0]))
    throw std::runtime_error("describe group " + group_id + ": " + rd_kafka_error_string(err));
  d.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(res[0]));
  const size_t members = rd_kafka_ConsumerGroupDescription_member_count(res[0]);
  for (size_t i = 0; i < members; ++i) {
    const auto* m = rd_kafka_ConsumerGroupDescription_member(res[0], i);
    GroupMember member;
    member.member_id = rd_kafka_MemberDescription_consumer_id(m);
    if (const char* id = rd_kafka_MemberDescription_group_instance_id(m)) member.instance_id = id;
    if (const char* c = rd_kafka_MemberDescription_client_id(m)) member.client_id = c;
    if (const char* h = rd_kafka_MemberDescription_host(m)) member.host = h;
    if (const auto* a = rd_kafka_MemberDescription_assignment(m))
      if (const auto* parts = rd_kafka_MemberAssignment_partitions(a))
        for (int j = 0; j < parts->cnt; ++j) member.assignment.push_back({parts->elems[j].topic, parts->elems[j].partition});
    d.members.push_back(std::move(member));
  }
  return d;
}

std::map<TopicPartition, std::int64_t> Admin::group_offsets(const std::string& group_id, const std::vector<TopicPartition>& tps) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& tp : tps) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  auto* req = rd_kafka_ListConsumerGroupOffsets_new(group_id.c_str(), tps.empty() ? nullptr : list.get());
  rd_kafka_ListConsumerGroupOffsets(impl_->rk.get(), &req, 1, impl_->options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS).get(),
                                    impl_->queue.get());
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  auto ev = impl_->wait(RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, "list group offsets");
  size_t n = 0;
  const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
  std::map<TopicPartition, std::int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (const auto* err = rd_kafka_group_result_error(groups[i]))
      throw std::runtime_error("group offsets of " + group_id + ": " + rd_kafka_error_string(err));
    const auto* parts = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; parts && j < parts->cnt; ++j) out[{parts->elems[j].topic, parts->elems[j].partition}] = parts->elems[j].offset;
  }
  return out;
}

void Admin::alter_group_offsets(const std::string& group_id, const std::map<TopicPartition, std::int64_t>& offsets) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, off] : offsets) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = off;
  auto* req = rd_kafka_AlterConsumerGroupOffsets_new(group_id.c_str(), list.get());
  rd_kafka_AlterConsumerGroupOffsets(impl_->rk.get(), &req, 1, impl_->options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS).get(),
                                     impl_->queue.get());
  rd_kafka_AlterConsumerGroupOffsets_destroy(req);
  auto ev = impl_->wait(RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, "alter group offsets");
  size_t n = 0;
  const auto** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (const auto* err = rd_kafka_group_result_error(groups[i]))
      throw std::runtime_error("reset offsets of group " + group_id + ": " + rd_kafka_error_string(err) +
                               ". Hint: a group's offsets can only be changed while it has no live members.");
    const auto* parts = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; parts && j < parts->cnt; ++j)
      if (parts->elems[j].err)
        throw std::runtime_error("reset offset of " + std::string(parts->elems[j].topic) + "[" + std::to_string(parts->elems[j].partition) +
                                 "]: " + rd_kafka_err2str(parts->elems[j].err));
  }
}

}  // namespace anipipe::kafka
