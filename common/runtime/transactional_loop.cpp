#include "runtime/transactional_loop.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "kafka/fatal_error.hpp"
#include "log/log.hpp"
#include "runtime/batch_span.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::runtime {

using namespace std::chrono_literals;

TransactionalLoop::TransactionalLoop(TransactionalSettings settings, TransactionalHandler& handler, const json::SchemaRegistry& schemas,
                                     metrics::Metrics& metrics)
    : settings_(std::move(settings)), handler_(handler), metrics_(metrics), contract_(settings_.loop, schemas),
      window_(settings_.priority_window) {
  register_window_metrics();
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
    this->dead_letter(msg, reason, outputs);
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

void TransactionalLoop::dead_letter(const kafka::Message& msg, const std::string& reason, std::vector<kafka::OutRecord>& outputs) {
  spdlog::warn("dead-lettering: {}", reason);
  metrics_.record_failed(msg.topic(), "dead_letter");
  outputs.push_back(contract_.dead_letter(msg, reason));
  std::vector<kafka::OutRecord> beside;
  try {
    beside = handler_.on_dead_letter(msg, reason);
  } catch (const std::exception& e) {
    spdlog::warn("nothing produced beside the dead letter: {}", e.what());
    return;
  }
  // A bug of ours: the dead letter still keeps the input for a re-drive after the fix.
  if (auto why = contract_.prepare_outputs(msg, beside)) return spdlog::warn("nothing produced beside the dead letter: {}", *why);
  for (auto& out : beside) outputs.push_back(std::move(out));
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

std::vector<kafka::Message> TransactionalLoop::collect_batch(const std::atomic<bool>& stop) {
  // The first record is waited for up to batch_wait; the rest is only what is already fetched,
  // so a lone record is not held back for company (latency) while a backlog still fills whole
  // batches (throughput). Rebalance callbacks run in here, between transactions. Records of the
  // priority topics go into the window; the batch takes from it last, by priority.
  std::vector<kafka::Message> batch;
  const auto deadline = std::chrono::steady_clock::now() + settings_.batch_wait;
  auto enough = [&] { return batch.size() + window_.waiting() >= settings_.batch_max; };
  for (bool first = true; !stop.load() && (first || !enough()); first = false) {
    const bool idle = batch.empty() && window_.waiting() == 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && idle) break;
    auto m = consumer_->poll(idle ? std::max(left, 1ms) : 0ms);  // at least once: rebalances, errors
    if (!m) {
      if (!idle) break;
      continue;
    }
    if (m->is_error()) {
      if (!m->is_partition_eof()) spdlog::warn("consumer: {}", m->error());
      continue;
    }
    if (paused(m->topic_partition())) continue;  // comes again
    if (windowed(m->topic_partition())) admit(std::move(*m));
    else batch.push_back(std::move(*m));
  }
  drain_priority(stop);
  // A partition revoked while the batch filled belongs to another instance now.
  std::erase_if(batch, [&](const kafka::Message& m) { return !consumer_->assignment().count(m.topic_partition()); });
  take_from_window(batch);
  return batch;
}

TransactionalLoop::HandledBatch TransactionalLoop::handle_batch(const std::vector<kafka::Message>& batch) {
  HandledBatch out;
  out.span = span_of(batch);
  out.records = batch.size();
  handler_.prepare_batch(batch);
  for (const auto& m : batch) {
    auto tp = m.topic_partition();
    if (out.retry_at.count(tp)) continue;  // held back at an earlier record: keep the partition's order
    std::string why;
    if (!handle(m, out.outputs, why)) out.retry_at.emplace(std::move(tp), std::make_pair(m.offset(), std::move(why)));
    else if (windowed(tp)) window_.done(tp, m.offset());
  }
  // Held back now, so the next batch does not take the records behind the one to retry. A
  // windowed partition goes back to its lowest offset not handled; what is handled past it is skipped.
  for (const auto& [tp, r] : out.retry_at)
    if (consumer_->assignment().count(tp)) hold_back(tp, windowed(tp) ? rewind_window(tp, false) : r.first, r.second);
  return out;
}

std::map<kafka::TopicPartition, HandledOffsets> TransactionalLoop::window_states(const BatchSpan& span) const {
  std::map<kafka::TopicPartition, HandledOffsets> out;
  for (const auto& [tp, _] : span)
    if (windowed(tp) && window_.knows(tp) && consumer_->assignment().count(tp)) out.emplace(tp, window_.handled(tp));
  return out;
}

std::string TransactionalLoop::start_commit(HandledBatch& batch) {
  std::vector<kafka::PartitionOffset> next;
  InFlight f;
  f.windows = window_states(batch.span);
  for (const auto& [tp, s] : batch.span) {
    if (windowed(tp)) continue;
    auto r = batch.retry_at.find(tp);
    const auto to = r == batch.retry_at.end() ? s.next : r->second.first;
    if (to > s.first) next.push_back({tp, to, {}});
  }
  for (const auto& [tp, h] : f.windows) next.push_back({tp, h.next(), h.metadata()});
  f.span = batch.span;
  f.records = batch.records;
  for (const auto& [tp, _] : batch.retry_at) f.retried.insert(tp);
  try {
    producer_->begin_transaction();
    for (const auto& out : batch.outputs) {
      producer_->produce(out, [this, topic = out.topic](const kafka::DeliveryResult& r) {
        if (r.ok) metrics_.record_out(topic);
      });
      if (!out.headers.observed_at.empty() && (f.observed_at.empty() || f.observed_at.back() != out.headers.observed_at))
        f.observed_at.push_back(out.headers.observed_at);
    }
  } catch (const kafka::TransactionError& e) {
    if (e.kind == kafka::TransactionError::Kind::fatal) throw kafka::FatalError(std::string("transaction failed fatally: ") + e.what());
    return e.what();
  }
  f.done = std::async(std::launch::async, [this, next = std::move(next), n = batch.records]() -> std::string {
    const auto started = std::chrono::steady_clock::now();
    try {
      if (!next.empty()) producer_->send_offsets_to_transaction(*consumer_, next, 30s);
      const auto offsets_at = std::chrono::steady_clock::now();
      producer_->commit_transaction(60s);
      const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
      spdlog::debug("transaction of {} record(s): offsets {:.1f} ms, commit {:.1f} ms", n, ms(started, offsets_at),
                    ms(offsets_at, std::chrono::steady_clock::now()));
      return {};
    } catch (const kafka::TransactionError& e) {
      // A new producer with the same transactional id fences this one and aborts what it left
      // open: run_process starts the worker again with new clients (or exits, for a twin).
      if (e.kind == kafka::TransactionError::Kind::fatal) throw kafka::FatalError(std::string("transaction failed fatally: ") + e.what());
      return e.what();
    }
  });
  in_flight_ = std::move(f);
  return {};
}

std::optional<TransactionalLoop::FailedCommit> TransactionalLoop::settle() {
  if (!in_flight_) return std::nullopt;
  auto f = std::move(*in_flight_);
  in_flight_.reset();
  if (auto reason = f.done.get(); !reason.empty()) return FailedCommit{std::move(f.span), std::move(reason)};  // rethrows FatalError
  failures_ = 0;
  for (const auto& [tp, state] : f.windows) window_.committed(tp, state);
  // Its partitions' retry counts start again, unless the batch handled since held one back.
  for (const auto& [tp, s] : f.span)
    if (auto h = held_.find(tp); h != held_.end() && !f.retried.count(tp) && !h->second.paused) held_.erase(h);
  // The effects of the batch's upstream observations are in the catalog now: once per observation.
  if (!settings_.loop.freshness_stage.empty())
    for (const auto& at : f.observed_at) metrics_.observe_freshness(settings_.loop.freshness_stage, at);
  return std::nullopt;
}

void TransactionalLoop::settle_in_callback() {
  try {
    if (auto failed = settle()) failed_in_callback_ = std::move(failed);  // a later callback settles nothing
  } catch (...) {
    fatal_in_callback_ = std::current_exception();
  }
}

void TransactionalLoop::abort_and_rewind(const std::vector<const BatchSpan*>& spans, const std::string& reason,
                                         const std::atomic<bool>& stop) {
  try {
    producer_->abort_transaction(60s);
  } catch (const kafka::TransactionError& e) {
    throw kafka::FatalError(std::string("abort failed: ") + e.what());
  }
  const auto delay = backoff_.delay(++failures_);
  const auto until = std::chrono::steady_clock::now() + delay;
  std::map<kafka::TopicPartition, std::int64_t> first;
  std::size_t records = 0;
  for (const auto* span : spans)
    for (const auto& [tp, r] : *span) {
      if (windowed(tp)) {  // back to its last commit: what was handled since is handled again
        if (window_.knows(tp) && consumer_->assignment().count(tp)) first.try_emplace(tp, rewind_window(tp, true));
        continue;
      }
      auto [it, fresh] = first.try_emplace(tp, r.first);
      if (!fresh) it->second = std::min(it->second, r.first);
      records += static_cast<std::size_t>(r.next - r.first);
    }
  std::vector<kafka::TopicPartition> touched;
  for (const auto& [tp, offset] : first) {
    if (!consumer_->assignment().count(tp)) continue;
    consumer_->rewind(tp, offset);
    auto& h = held_[tp];
    h.paused = true;
    h.resume_at = until;
    touched.push_back(tp);
  }
  if (!first.empty()) metrics_.record_failed(first.begin()->first.topic, "retry");
  handler_.on_transaction_aborted(touched);
  spdlog::warn("transaction of up to {} record(s) aborted ({}); retrying in {} ms", records, reason, delay.count());
  while (!stop.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
}

int TransactionalLoop::run(const std::atomic<bool>& stop) {
  spdlog::info("consuming {} topic(s) in group {} exactly-once (transactional id {})", settings_.loop.topics.size(),
               settings_.loop.options.group, settings_.transactional_id);
  while (!stop.load(std::memory_order_relaxed)) {
    resume_due_partitions();
    resume_windowed();
    const auto started_at = std::chrono::steady_clock::now();
    auto batch = collect_batch(stop);
    if (fatal_in_callback_) std::rethrow_exception(std::exchange(fatal_in_callback_, nullptr));
    const auto this_span = span_of(batch);
    if (failed_in_callback_) {  // nothing of this batch is handled yet: it is taken again too
      const auto failed = std::move(*std::exchange(failed_in_callback_, std::nullopt));
      abort_and_rewind({&failed.span, &this_span}, failed.reason, stop);
      continue;
    }
    if (batch.empty()) {
      if (auto failed = settle()) abort_and_rewind({&failed->span}, failed->reason, stop);
      continue;
    }
    // Handled while the previous batch's commit is on its way; produced once it is in.
    const auto collected_at = std::chrono::steady_clock::now();
    auto handled = handle_batch(batch);
    const auto handled_at = std::chrono::steady_clock::now();
    if (auto failed = settle()) {
      abort_and_rewind({&failed->span, &handled.span}, failed->reason, stop);
      continue;
    }
    const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    spdlog::debug("batch of {} record(s): collected in {:.1f} ms, handled in {:.1f} ms, then waited {:.1f} ms for the commit before it",
                  batch.size(), ms(started_at, collected_at), ms(collected_at, handled_at),
                  ms(handled_at, std::chrono::steady_clock::now()));
    if (auto reason = start_commit(handled); !reason.empty()) abort_and_rewind({&handled.span}, reason, stop);
  }
  if (auto failed = settle()) spdlog::warn("the last transaction failed ({}); its records come again", failed->reason);
  arm_shutdown_deadline(std::chrono::seconds(settings_.loop.options.shutdown_timeout_s));
  consumer_->close();
  spdlog::info("left the group; bye");
  return 0;
}

void TransactionalLoop::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  settle_in_callback();  // the handler's rebuild reads the catalog: nothing of ours may be open there
  metrics_.rebalance("assigned");
  spdlog::info("assigned {} partition(s)", tps.size());
  for (const auto& tp : tps) forget_window(tp);  // restored from the committed offset when its first record comes
  handler_.on_assigned(tps);
}

void TransactionalLoop::on_revoking(const std::vector<kafka::TopicPartition>& tps, bool lost) {
  settle_in_callback();  // a revoked partition's offsets are committed before it is given away
  metrics_.rebalance(lost ? "lost" : "revoked");
  spdlog::info("{} {} partition(s)", lost ? "lost" : "revoking", tps.size());
  for (const auto& tp : tps) {
    held_.erase(tp);
    forget_window(tp);
  }
  handler_.on_revoked(tps);
}

}  // namespace anipipe::runtime
