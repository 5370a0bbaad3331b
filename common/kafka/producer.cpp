#include "kafka/producer.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "kafka/conf.hpp"
#include "kafka/consumer_access.hpp"
#include "kafka/topic_metadata.hpp"

namespace anipipe::kafka {

struct Producer::Impl {
  detail::HandlePtr rk;
  // Topic handles for produce(RecordView): producing by name makes librdkafka look the topic up
  // under its handle's write lock on every record. Declared after rk: released before it.
  std::mutex topics_mutex;
  std::vector<std::pair<std::string, detail::TopicPtr>> topics;

  rd_kafka_topic_t* topic(std::string_view name) {
    std::lock_guard lock(topics_mutex);
    for (const auto& [n, t] : topics)
      if (n == name) return t.get();
    const std::string n(name);
    detail::TopicPtr t(rd_kafka_topic_new(rk.get(), n.c_str(), nullptr));
    if (!t) throw std::runtime_error("cannot create a handle for topic " + n + ": " + rd_kafka_err2str(rd_kafka_last_error()));
    topics.emplace_back(n, std::move(t));
    return topics.back().second.get();
  }

  // A message's opaque is a DeliveryCallback we own (bit 0 clear) or a DeliveryHandler we do
  // not (bit 0 set; both are at least 8-byte aligned).
  static void* tag(DeliveryHandler* h) { return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(h) | 1u); }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    DeliveryResult r;
    r.ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!r.ok) {
      r.error = rd_kafka_err2str(m->err);
      r.possibly_persisted = rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
    }
    r.partition = m->partition;
    r.offset = m->offset;
    const auto opaque = reinterpret_cast<std::uintptr_t>(m->_private);
    if (opaque & 1u) {
      reinterpret_cast<DeliveryHandler*>(opaque & ~std::uintptr_t{1})
          ->on_delivery(r, std::string_view(static_cast<const char*>(m->payload), m->len));
      return;
    }
    // The opaque is ours only once rd_kafka_producev succeeded; it is released exactly here.
    std::unique_ptr<DeliveryCallback> cb(static_cast<DeliveryCallback*>(m->_private));
    if (!cb || !*cb) return;
    try {
      (*cb)(r);
    } catch (...) {
      // Nothing may unwind through librdkafka's C frames; a throwing callback is a bug we must not hide.
      std::terminate();
    }
  }
};

namespace {

[[noreturn]] void throw_txn(rd_kafka_error_t* raw, const char* op) {
  detail::ErrorPtr err(raw);
  auto kind = rd_kafka_error_is_fatal(err.get())             ? TransactionError::Kind::fatal
              : rd_kafka_error_txn_requires_abort(err.get()) ? TransactionError::Kind::abortable
              : rd_kafka_error_is_retriable(err.get())       ? TransactionError::Kind::retriable
                                                             : TransactionError::Kind::fatal;
  throw TransactionError(kind, std::string(op) + " failed: " + rd_kafka_error_string(err.get()));
}

}  // namespace

Producer::Producer(const Settings& settings, const Options& options) : impl_(std::make_unique<Impl>()) {
  std::map<std::string, std::string> defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Latency paths: Nagle adds tens of ms to small records in librdkafka 2.0.x
      // (docs/design.md, "librdkafka 2.0.2 constraints").
      {"socket.nagle.disable", "true"},
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
      // Java's partitioner (as kafkajs and every Java client): a key the site's Node.js back end
      // produces (a sync request) lands in the partition where the workers put that title's other
      // records, which co-partitioned topics rely on. librdkafka's own default hashes with CRC32.
      {"partitioner", "murmur2_random"},
      // Outage of the broker: keep retrying rather than failing records after 5 minutes.
      {"message.timeout.ms", "0"},
  };
  if (!options.transactional_id.empty()) {
    defaults["transactional.id"] = options.transactional_id;
    defaults["transaction.timeout.ms"] = "60000";
    defaults["message.timeout.ms"] = "60000";  // must not exceed transaction.timeout.ms
    // A transaction begun right after a commit registers its partitions while the coordinator
    // may still be writing the last one's markers: the broker answers CONCURRENT_TRANSACTIONS and
    // librdkafka retries after retry.backoff.ms, 100 ms by default - the worst case of sync's
    // end-to-end latency (bench-edge: max 110 -> 50 ms). The Java client waits 20 ms here.
    defaults["retry.backoff.ms"] = "10";
  }
  for (const auto& [k, v] : options.defaults) defaults[k] = v;
  auto conf = detail::make_conf(settings, defaults);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
  impl_->rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

Producer::~Producer() {
  // A producer in a fatal state fails what it holds; waiting for it would only delay the exit.
  if (impl_ && impl_->rk && rd_kafka_fatal_error(impl_->rk.get(), nullptr, 0) == RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_flush(impl_->rk.get(), 10'000);
}

void Producer::produce(const OutRecord& rec, DeliveryCallback on_delivery) {
  std::vector<RecordView::Header> headers;  // the standard ones only when set; extra ones always
  for (const auto& [name, value] : {std::pair{header_names::traceparent, &rec.headers.traceparent},
                                    {header_names::correlation_id, &rec.headers.correlation_id},
                                    {header_names::schema, &rec.headers.schema},
                                    {header_names::schema_version, &rec.headers.schema_version},
                                    {header_names::producer, &rec.headers.producer},
                                    {header_names::observed_at, &rec.headers.observed_at}})
    if (!value->empty()) headers.push_back({name, *value});
  for (const auto& [n, v] : rec.extra_headers) headers.push_back({n.c_str(), v});
  RecordView view{rec.topic, {}, {}, headers, rec.partition};
  if (rec.key) view.key = *rec.key;
  if (rec.value) view.value = *rec.value;
  auto cb = std::make_unique<DeliveryCallback>(std::move(on_delivery));
  send(view, cb.get());
  (void)cb.release();  // released in on_delivery
}

void Producer::produce(const RecordView& rec, DeliveryHandler& handler) { send(rec, Impl::tag(&handler)); }

void Producer::send(const RecordView& rec, void* opaque) {
  rd_kafka_topic_t* const rkt = impl_->topic(rec.topic);
  const void* key = rec.key ? rec.key->data() : nullptr;
  const std::size_t key_len = rec.key ? rec.key->size() : 0;
  void* val = rec.value ? const_cast<char*>(rec.value->data()) : nullptr;
  const std::size_t val_len = rec.value ? rec.value->size() : 0;
  for (;;) {
    detail::HeadersPtr hdrs(rec.headers.empty() ? nullptr : rd_kafka_headers_new(rec.headers.size()));
    for (const auto& h : rec.headers) rd_kafka_header_add(hdrs.get(), h.name, -1, h.value.data(), h.value.size());
    const rd_kafka_resp_err_t err = rd_kafka_producev(impl_->rk.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(rec.partition),
                                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                                                      RD_KAFKA_V_VALUE(val, val_len), RD_KAFKA_V_HEADERS(hdrs.get()),
                                                      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)hdrs.release();  // owned by the message now
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(impl_->rk.get(), 50);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) detail::throw_if_fatal(impl_->rk.get(), "producer");
    throw std::runtime_error("produce to " + std::string(rec.topic) + " failed: " + rd_kafka_err2str(err));
  }
}

void Producer::prepare(const std::string& topic, std::chrono::milliseconds timeout) {
  detail::partitions_of(impl_->rk.get(), topic, timeout);
}

int Producer::poll(std::chrono::milliseconds timeout) {
  const int served = rd_kafka_poll(impl_->rk.get(), static_cast<int>(timeout.count()));
  detail::throw_if_fatal(impl_->rk.get(), "producer");
  return served;
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  const bool drained = rd_kafka_flush(impl_->rk.get(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
  detail::throw_if_fatal(impl_->rk.get(), "producer");
  return drained;
}

int Producer::pending() const { return rd_kafka_outq_len(impl_->rk.get()); }

void Producer::init_transactions(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_init_transactions(impl_->rk.get(), static_cast<int>(timeout.count()))) throw_txn(e, "init_transactions");
}

void Producer::begin_transaction() {
  if (auto* e = rd_kafka_begin_transaction(impl_->rk.get())) throw_txn(e, "begin_transaction");
}

void Producer::send_offsets_to_transaction(const Consumer& consumer, const std::vector<PartitionOffset>& next_offsets,
                                           std::chrono::milliseconds timeout) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& o : next_offsets) {
    auto* p = rd_kafka_topic_partition_list_add(list.get(), o.tp.topic.c_str(), o.tp.partition);
    p->offset = o.offset;
    if (o.metadata.empty()) continue;
    // The list owns it: librdkafka frees a partition's metadata with free().
    p->metadata = std::malloc(o.metadata.size());
    if (!p->metadata) throw std::bad_alloc();
    std::memcpy(p->metadata, o.metadata.data(), o.metadata.size());
    p->metadata_size = o.metadata.size();
  }
  detail::GroupMetadataPtr meta(rd_kafka_consumer_group_metadata(detail::ConsumerAccess::handle(consumer)));
  if (auto* e = rd_kafka_send_offsets_to_transaction(impl_->rk.get(), list.get(), meta.get(), static_cast<int>(timeout.count())))
    throw_txn(e, "send_offsets_to_transaction");
}

void Producer::commit_transaction(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_commit_transaction(impl_->rk.get(), static_cast<int>(timeout.count()))) throw_txn(e, "commit_transaction");
}

void Producer::abort_transaction(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_abort_transaction(impl_->rk.get(), static_cast<int>(timeout.count()))) throw_txn(e, "abort_transaction");
}

}  // namespace anipipe::kafka
