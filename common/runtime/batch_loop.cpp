#include "runtime/batch_loop.hpp"

#include <spdlog/spdlog.h>

#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

BatchLoop::BatchLoop(BatchSettings settings, BatchHandler& handler, const json::SchemaRegistry& schemas, metrics::Metrics& metrics)
    : settings_(std::move(settings)), handler_(handler), metrics_(metrics), contract_(settings_.loop, schemas) {
  const auto& o = settings_.loop.options;
  backoff_.initial = std::chrono::milliseconds(o.retry_backoff_ms);
  backoff_.max = std::chrono::milliseconds(o.retry_backoff_max_ms);
  producer_ = std::make_unique<kafka::Producer>(o.kafka);
  kafka::Consumer::Options co;
  co.group_id = o.group;
  co.topics = settings_.loop.topics;
  co.group_instance_id = settings_.loop.group_instance_id;
  co.on_stats = [this](std::string_view json) { metrics_.update_from_librdkafka_stats(json); };
  consumer_ = std::make_unique<kafka::Consumer>(o.kafka, std::move(co), static_cast<kafka::RebalanceListener*>(this));
}

BatchLoop::~BatchLoop() = default;

void BatchLoop::hold_back(const BatchSpan& span, const std::string& reason) {
  const auto delay = backoff_.delay(++failures_);
  for (const auto& [tp, s] : span) {
    if (!consumer_->assignment().count(tp)) continue;
    consumer_->rewind(tp, s.first);
    held_[tp] = {Clock::now() + delay};
    metrics_.record_failed(tp.topic, "retry");
  }
  spdlog::warn("batch held back ({}); {} partition(s) paused, retry {} in {} ms", reason, span.size(), failures_, delay.count());
}

void BatchLoop::resume_due_partitions() {
  const auto now = Clock::now();
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.resume_at > now) {
      ++it;
      continue;
    }
    if (consumer_->resume(it->first)) {
      it = held_.erase(it);
    } else {
      it->second.resume_at = now + kRewindRetry;
      ++it;
    }
  }
}

int BatchLoop::run(const std::atomic<bool>& stop) {
  spdlog::info("consuming {} topic(s) in group {} in batches of up to {}", settings_.loop.topics.size(), settings_.loop.options.group,
               settings_.batch_max);
  while (!stop.load(std::memory_order_relaxed)) {
    producer_->poll(0ms);
    resume_due_partitions();
    // One batch: the first record waits up to 100 ms, the rest is whatever is already fetched.
    std::vector<kafka::Message> batch;
    for (auto timeout = 100ms; batch.size() < settings_.batch_max; timeout = 0ms) {
      auto m = consumer_->poll(timeout);
      if (!m) break;
      if (m->is_error()) {
        if (!m->is_partition_eof()) spdlog::warn("consumer: {}", m->error());
        continue;
      }
      if (held_.count(m->topic_partition())) continue;  // fetched before the pause; it comes again
      batch.push_back(std::move(*m));
    }
    if (batch.empty()) continue;

    auto span = span_of(batch);
    for (const auto& m : batch) metrics_.record_in(m.topic());
    for (const auto& m : batch) metrics_.consumed(m.topic(), m.partition(), m.timestamp_ms());
    std::vector<std::pair<const kafka::Message*, std::string>> dead;
    std::vector<const kafka::Message*> valid;
    for (const auto& m : batch) {
      if (auto reason = contract_.reject_input(m)) dead.emplace_back(&m, std::move(*reason));
      else valid.push_back(&m);
    }
    BatchResult result;
    const auto started = Clock::now();
    try {
      result = valid.empty() ? BatchResult::done() : handler_.handle_batch(valid);
    } catch (const std::exception& e) {
      result = BatchResult::retry_later(std::string("handler threw: ") + e.what());
    }
    metrics_.observe_handler(batch.front().topic(), std::chrono::duration<double>(Clock::now() - started).count());
    if (result.outcome == Outcome::retry_later) {
      hold_back(span, result.reason);
      continue;
    }
    for (auto& [index, reason] : result.dead_letters) dead.emplace_back(valid.at(index), std::move(reason));
    if (!dead.empty()) {
      bool delivered = true;
      for (const auto& [msg, reason] : dead) {
        spdlog::warn("dead-lettering {}[{}]@{}: {}", msg->topic(), msg->partition(), msg->offset(), reason);
        metrics_.record_failed(msg->topic(), "dead_letter");
        producer_->produce(contract_.dead_letter(*msg, reason), [&delivered](const kafka::DeliveryResult& r) {
          if (!r.ok) delivered = false;
        });
      }
      if (!producer_->flush(30s) || !delivered) {
        hold_back(span, "dead letters were not acknowledged");
        continue;
      }
    }
    failures_ = 0;
    for (const auto& tp : result.rewind_to_start) {
      if (!consumer_->assignment().count(tp)) continue;
      spdlog::warn("{}: the store lost what this partition built; consuming it again from the start", tp.to_string());
      consumer_->rewind(tp, kafka::kOffsetBeginning);
      held_[tp] = {Clock::now()};  // resumed on the next pass, once the rewind has landed
      span.erase(tp);
    }
    for (const auto& [tp, s] : span) consumer_->store_offset(tp, s.next);
    if (!settings_.loop.freshness_stage.empty())
      for (const auto* m : valid)
        if (auto at = m->header(kafka::header_names::observed_at)) metrics_.observe_freshness(settings_.loop.freshness_stage, *at);
  }
  arm_shutdown_deadline(std::chrono::seconds(settings_.loop.options.shutdown_timeout_s));
  consumer_->close();  // final revoke commits what was stored
  spdlog::info("left the group; bye");
  return 0;
}

void BatchLoop::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  metrics_.rebalance("assigned");
  spdlog::info("assigned {} partition(s)", tps.size());
  handler_.on_assigned(tps);
}

void BatchLoop::on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) {
  metrics_.rebalance(lost ? "lost" : "revoked");
  spdlog::info("{} {} partition(s)", lost ? "lost" : "revoking", tps.size());
  for (const auto& tp : tps) held_.erase(tp);
  handler_.on_revoked(tps);
}

}  // namespace anipipe::runtime
