#include "runtime/transactional_loop.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "kafka/fatal_error.hpp"
#include "log/log.hpp"
#include "runtime/batch_span.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

using namespace std::chrono_literals;

TransactionalLoop::TransactionalLoop(TransactionalSettings settings, RecordHandler& handler,
                                     const json::SchemaRegistry& schemas, metrics::Metrics& metrics)
    : settings_(std::move(settings)), handler_(handler), schemas_(schemas), metrics_(metrics), contract_(settings_.loop, schemas) {
  const auto& o = settings_.loop.options;
  backoff_.initial = std::chrono::milliseconds(o.retry_backoff_ms);
  backoff_.max = std::chrono::milliseconds(o.retry_backoff_max_ms);
  kafka::Producer::Options po;
  po.transactional_id = settings_.transactional_id;
  producer_ = std::make_unique<kafka::Producer>(o.kafka, po);
  // Fences a predecessor with the same id, aborting what it left open. A coordinator that is
  // down or moving (a broker restart; this loop started again after a fatal error) is waited for.
  for (int attempt = 1;; ++attempt) {
    try {
      producer_->init_transactions(60s);
      break;
    } catch (const kafka::TransactionError& e) {
      if (e.kind != kafka::TransactionError::Kind::retriable || attempt == 10) throw;
      spdlog::warn("{}; trying again ({} of 10)", e.what(), attempt);
    }
  }
  kafka::Consumer::Options co;
  co.group_id = o.group;
  co.topics = settings_.loop.topics;
  co.group_instance_id = settings_.loop.group_instance_id;
  co.read_committed = true;
  co.priority_topics = settings_.priority_topics;
  co.defaults["enable.auto.commit"] = "false";  // offsets are committed by the transactions
  co.on_stats = [this](std::string_view json) { metrics_.update_from_librdkafka_stats(json); };
  consumer_ = std::make_unique<kafka::Consumer>(o.kafka, std::move(co), static_cast<kafka::RebalanceListener*>(this));
}

TransactionalLoop::~TransactionalLoop() = default;

bool TransactionalLoop::handle(const kafka::Message& msg, std::vector<kafka::OutRecord>& outputs, std::string& retry_reason) {
  const auto tp = msg.topic_partition();
  metrics_.record_in(tp.topic);
  metrics_.consumed(tp.topic, tp.partition, msg.timestamp_ms());
  log::ScopedRecordContext ctx({tp.topic, tp.partition, msg.offset(), std::string(msg.header("correlation-id").value_or(""))});
  auto dead_letter = [&](const std::string& reason) {
    spdlog::warn("dead-lettering: {}", reason);
    metrics_.record_failed(tp.topic, "dead_letter");
    outputs.push_back(contract_.dead_letter(msg, reason));
    return true;
  };
  if (auto reason = contract_.reject_input(msg)) return dead_letter(*reason);
  const auto started = std::chrono::steady_clock::now();
  Handled h;
  try {
    h = handler_.handle(msg);
  } catch (const std::exception& e) {
    // Inside a transaction a throwing handler is a poison record: retrying the batch would throw again.
    return dead_letter(std::string("handler failed: ") + e.what());
  }
  metrics_.observe_handler(tp.topic, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (h.outcome == Outcome::retry_later) {
    retry_reason = h.reason;
    return false;
  }
  if (h.outcome == Outcome::dead_letter) return dead_letter(h.reason);
  if (auto reason = contract_.prepare_outputs(msg, h.outputs)) return dead_letter(*reason);
  for (auto& out : h.outputs) outputs.push_back(std::move(out));
  return true;
}

void TransactionalLoop::hold_back(const kafka::TopicPartition& tp, std::int64_t offset, const std::string& reason) {
  auto& h = held_[tp];
  const auto delay = backoff_.delay(++h.retries);
  consumer_->rewind(tp, offset);
  h.paused = true;
  h.resume_at = std::chrono::steady_clock::now() + delay;
  metrics_.record_failed(tp.topic, "retry");
  spdlog::warn("{} held back at offset {} ({}); retry {} in {} ms", tp.to_string(), offset, reason, h.retries, delay.count());
}

void TransactionalLoop::resume_due_partitions() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [tp, h] : held_) {
    if (!h.paused || h.resume_at > now) continue;
    if (consumer_->resume(tp)) h.paused = false;
    else h.resume_at = now + kRewindRetry;
  }
}

int TransactionalLoop::run(const std::atomic<bool>& stop) {
  spdlog::info("consuming {} topic(s) in group {} exactly-once (transactional id {})", settings_.loop.topics.size(),
               settings_.loop.options.group, settings_.transactional_id);
  int failures = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    resume_due_partitions();
    // Collect a batch. Rebalance callbacks run in here, between transactions.
    std::vector<kafka::Message> batch;
    // The first record is waited for up to batch_wait; the rest is only what is already fetched,
    // so a lone record is not held back for company (latency) while a backlog still fills
    // whole batches (throughput).
    const auto deadline = std::chrono::steady_clock::now() + settings_.batch_wait;
    while (batch.size() < settings_.batch_max && !stop.load()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 && batch.empty()) break;
      auto m = consumer_->poll(batch.empty() ? std::max(left, 1ms) : 0ms);
      if (!m) {
        if (!batch.empty()) break;
        continue;
      }
      if (m->is_error()) {
        if (!m->is_partition_eof()) spdlog::warn("consumer: {}", m->error());
        continue;
      }
      if (auto h = held_.find(m->topic_partition()); h != held_.end() && h->second.paused) continue;  // comes again
      batch.push_back(std::move(*m));
    }
    if (batch.empty()) continue;

    const auto span = span_of(batch);
    std::map<kafka::TopicPartition, std::pair<std::int64_t, std::string>> retry_at;  // offset, reason
    std::string reason;
    try {
      handler_.prepare_batch(batch);
      producer_->begin_transaction();
      std::vector<kafka::OutRecord> outputs;
      for (const auto& m : batch) {
        auto tp = m.topic_partition();
        if (retry_at.count(tp)) continue;  // held back at an earlier record: keep the partition's order
        std::string why;
        if (!handle(m, outputs, why)) retry_at.emplace(std::move(tp), std::make_pair(m.offset(), std::move(why)));
      }
      for (const auto& out : outputs) producer_->produce(out, [this, topic = out.topic](const kafka::DeliveryResult& r) {
        if (r.ok) metrics_.record_out(topic);
      });
      std::vector<std::pair<kafka::TopicPartition, std::int64_t>> next;
      for (const auto& [tp, s] : span) {
        auto r = retry_at.find(tp);
        const auto to = r == retry_at.end() ? s.next : r->second.first;
        if (to > s.first) next.emplace_back(tp, to);
      }
      const auto handled_at = std::chrono::steady_clock::now();
      if (!next.empty()) producer_->send_offsets_to_transaction(*consumer_, next, 30s);
      const auto offsets_at = std::chrono::steady_clock::now();
      producer_->commit_transaction(60s);
      if (!settings_.loop.freshness_stage.empty()) {
        // The effects of the batch's upstream observations are in the catalog now: once per observation.
        std::string last;
        for (const auto& out : outputs)
          if (!out.headers.observed_at.empty() && out.headers.observed_at != last) {
            last = out.headers.observed_at;
            metrics_.observe_freshness(settings_.loop.freshness_stage, last);
          }
      }
      const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
      spdlog::debug("transaction of {} record(s): offsets {:.1f} ms, commit {:.1f} ms", batch.size(), ms(handled_at, offsets_at),
                    ms(offsets_at, std::chrono::steady_clock::now()));
      failures = 0;
      for (const auto& [tp, s] : span)
        if (!retry_at.count(tp)) held_.erase(tp);
      for (const auto& [tp, r] : retry_at)
        if (consumer_->assignment().count(tp)) hold_back(tp, r.first, r.second);
      continue;
    } catch (const kafka::TransactionError& e) {
      // A new producer with the same transactional id fences this one and aborts what it left
      // open: run_process starts the worker again with new clients (or exits, for a twin).
      if (e.kind == kafka::TransactionError::Kind::fatal) throw kafka::FatalError(std::string("transaction failed fatally: ") + e.what());
      reason = e.what();
    }
    // Abort, rewind, let the handler forget the batch, back off, and take the records again.
    try {
      producer_->abort_transaction(60s);
    } catch (const kafka::TransactionError& e) {
      throw kafka::FatalError(std::string("abort failed: ") + e.what());
    }
    const auto delay = backoff_.delay(++failures);
    const auto until = std::chrono::steady_clock::now() + delay;
    std::vector<kafka::TopicPartition> touched;
    for (const auto& [tp, s] : span) {
      if (!consumer_->assignment().count(tp)) continue;
      consumer_->rewind(tp, s.first);
      auto& h = held_[tp];
      h.paused = true;
      h.resume_at = until;
      touched.push_back(tp);
    }
    metrics_.record_failed(batch.front().topic(), "retry");
    handler_.on_transaction_aborted(touched);
    spdlog::warn("batch of {} record(s) aborted ({}); retrying in {} ms", batch.size(), reason, delay.count());
    while (!stop.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  }
  arm_shutdown_deadline(std::chrono::seconds(settings_.loop.options.shutdown_timeout_s));
  consumer_->close();
  spdlog::info("left the group; bye");
  return 0;
}

void TransactionalLoop::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  metrics_.rebalance("assigned");
  spdlog::info("assigned {} partition(s)", tps.size());
  handler_.on_assigned(tps);
}

void TransactionalLoop::on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) {
  metrics_.rebalance(lost ? "lost" : "revoked");
  spdlog::info("{} {} partition(s)", lost ? "lost" : "revoking", tps.size());
  for (const auto& tp : tps) held_.erase(tp);
  handler_.on_revoked(tps);
}

}  // namespace anipipe::runtime
