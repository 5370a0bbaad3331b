#include "runtime/consumer_loop.hpp"

#include <spdlog/spdlog.h>

#include "log/log.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ConsumerLoop::ConsumerLoop(LoopSettings settings, RecordHandler& handler, const json::SchemaRegistry& schemas, metrics::Metrics& metrics)
    : settings_(std::move(settings)), handler_(handler), metrics_(metrics), contract_(settings_, schemas) {
  backoff_.initial = std::chrono::milliseconds(settings_.options.retry_backoff_ms);
  backoff_.max = std::chrono::milliseconds(settings_.options.retry_backoff_max_ms);
  producer_ = std::make_unique<kafka::Producer>(settings_.options.kafka);
  kafka::Consumer::Options co;
  co.group_id = settings_.options.group;
  co.topics = settings_.topics;
  co.group_instance_id = settings_.group_instance_id;
  co.on_stats = [this](std::string_view json) { metrics_.update_from_librdkafka_stats(json); };
  consumer_ = std::make_unique<kafka::Consumer>(settings_.options.kafka, std::move(co), static_cast<kafka::RebalanceListener*>(this));
}

ConsumerLoop::~ConsumerLoop() = default;

int ConsumerLoop::run(const std::atomic<bool>& stop) {
  spdlog::info("consuming {} topic(s) in group {}", settings_.topics.size(), settings_.options.group);
  while (!stop.load(std::memory_order_relaxed)) {
    producer_->poll(0ms);
    resume_due_partitions();
    auto msg = consumer_->poll(100ms);
    if (!msg) continue;
    if (msg->is_error()) {
      if (!msg->is_partition_eof()) spdlog::warn("consumer: {}", msg->error());
      continue;
    }
    process(*msg);
  }
  arm_shutdown_deadline(std::chrono::seconds(settings_.options.shutdown_timeout_s));
  spdlog::info("shutting down: flushing {} in-flight record(s)", tracker_.in_flight());
  if (!producer_->flush(std::chrono::seconds(settings_.options.shutdown_timeout_s)))
    spdlog::warn("not every output was acknowledged before shutdown; those records will be consumed again");
  consumer_->close();  // final revoke commits what was stored
  spdlog::info("left the group; bye");
  return 0;
}

void ConsumerLoop::process(const kafka::Message& msg) {
  kafka::TopicPartition tp = msg.topic_partition();
  if (auto rw = rewound_to_.find(tp); rw != rewound_to_.end()) {
    if (msg.offset() != rw->second) return;  // stale prefetch from before the rewind
    rewound_to_.erase(rw);
  }
  metrics_.record_in(tp.topic);
  metrics_.consumed(tp.topic, tp.partition, msg.timestamp_ms());
  log::ScopedRecordContext ctx({tp.topic, tp.partition, msg.offset(), std::string(msg.header("correlation-id").value_or(""))});

  if (auto reason = contract_.reject_input(msg)) return finish(msg, Handled::dead_letter(std::move(*reason)));

  const auto started = Clock::now();
  Handled handled;
  try {
    handled = handler_.handle(msg);
  } catch (const std::exception& e) {
    metrics_.observe_handler(tp.topic, std::chrono::duration<double>(Clock::now() - started).count());
    auto& st = retries_[tp];
    if (st.offset != msg.offset()) st = RetryState{msg.offset(), 0, 0, {}, false};
    // A handler that keeps throwing on one record is a poison record, not an outage.
    if (++st.exceptions >= settings_.options.max_attempts)
      return finish(msg, Handled::dead_letter("handler failed " + std::to_string(st.exceptions) + " times; last error: " + e.what()));
    return schedule_retry(tp, msg.offset(), std::string("handler threw: ") + e.what());
  }
  metrics_.observe_handler(tp.topic, std::chrono::duration<double>(Clock::now() - started).count());
  finish(msg, std::move(handled));
}

void ConsumerLoop::finish(const kafka::Message& msg, Handled handled) {
  const kafka::TopicPartition tp = msg.topic_partition();
  if (handled.outcome == Outcome::retry_later) return schedule_retry(tp, msg.offset(), handled.reason);

  if (handled.outcome == Outcome::done)
    if (auto reason = contract_.prepare_outputs(msg, handled.outputs)) handled = Handled::dead_letter(std::move(*reason));
  retries_.erase(tp);
  if (handled.outcome == Outcome::dead_letter) {
    spdlog::warn("dead-lettering: {}", handled.reason);
    metrics_.record_failed(tp.topic, "dead_letter");
    std::vector<kafka::OutRecord> dlq;
    dlq.push_back(contract_.dead_letter(msg, handled.reason));
    return produce_effects(msg, dlq);
  }
  produce_effects(msg, handled.outputs);
}

void ConsumerLoop::produce_effects(const kafka::Message& msg, const std::vector<kafka::OutRecord>& outputs) {
  const kafka::TopicPartition tp = msg.topic_partition();
  const std::int64_t offset = msg.offset();
  store(tp, tracker_.begin(tp, offset, static_cast<int>(outputs.size())));
  for (const auto& out : outputs) {
    producer_->produce(out, [this, tp, offset, topic = out.topic](const kafka::DeliveryResult& r) {
      if (r.ok) {
        metrics_.record_out(topic);
        store(tp, tracker_.ack(tp, offset));
      } else {
        on_delivery_failed(tp, offset, r.error);
      }
    });
  }
}

void ConsumerLoop::store(const kafka::TopicPartition& tp, std::optional<std::int64_t> next) {
  if (next) consumer_->store_offset(tp, *next);
}

void ConsumerLoop::on_delivery_failed(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& error) {
  metrics_.record_failed(tp.topic, "delivery");
  if (!consumer_->assignment().count(tp)) return;  // the next owner re-consumes it
  spdlog::error("output of {}@{} was not delivered ({}); reprocessing from there", tp.to_string(), offset, error);
  schedule_retry(tp, offset, "delivery failed: " + error);
}

void ConsumerLoop::schedule_retry(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& reason) {
  auto& st = retries_[tp];
  if (st.offset != offset) st = RetryState{offset, 0, 0, {}, false};
  ++st.attempts;
  const auto delay = backoff_.delay(st.attempts);
  metrics_.record_failed(tp.topic, "retry");
  spdlog::warn("retrying {}@{} in {} ms (attempt {}): {}", tp.to_string(), offset, delay.count(), st.attempts, reason);
  tracker_.rewind(tp, offset);
  consumer_->rewind(tp, offset);
  rewound_to_[tp] = offset;
  st.resume_at = Clock::now() + delay;
  st.waiting = true;
}

void ConsumerLoop::resume_due_partitions() {
  if (retries_.empty()) return;
  const auto now = Clock::now();
  for (auto& [tp, st] : retries_) {
    if (!st.waiting || st.resume_at > now) continue;
    if (consumer_->resume(tp)) st.waiting = false;
    else st.resume_at = now + kRewindRetry;
  }
}

void ConsumerLoop::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  metrics_.rebalance("assigned");
  std::string list;
  for (const auto& tp : tps) list += (list.empty() ? "" : ", ") + tp.to_string();
  spdlog::info("assigned {} partition(s): {}", tps.size(), list);
  handler_.on_assigned(tps);
}

void ConsumerLoop::on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) {
  metrics_.rebalance(lost ? "lost" : "revoked");
  spdlog::info("{} {} partition(s)", lost ? "lost" : "revoking", tps.size());
  // Let in-flight outputs of these partitions land so their offsets can be committed now,
  // not re-processed by the next owner. Bounded: a broker outage must not stall the group forever.
  if (!lost) producer_->flush(10s);
  for (const auto& tp : tps) {
    tracker_.forget(tp);
    retries_.erase(tp);
    rewound_to_.erase(tp);
  }
  handler_.on_revoked(tps);
}

}  // namespace anipipe::runtime
