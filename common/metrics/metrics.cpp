#include "metrics/metrics.hpp"

#include <prometheus/exposer.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>

namespace anipipe::metrics {

namespace {
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}
}  // namespace

Metrics::Metrics(std::string worker, const std::string& bind)
    : worker_(std::move(worker)), registry_(std::make_shared<prometheus::Registry>()),
      in_(prometheus::BuildCounter().Name("anipipe_records_in_total").Help("Records consumed").Register(*registry_)),
      out_(prometheus::BuildCounter().Name("anipipe_records_out_total").Help("Records produced and acknowledged").Register(*registry_)),
      failed_(prometheus::BuildCounter()
                  .Name("anipipe_records_failed_total")
                  .Help("Records whose handling failed, by outcome (retry, dead_letter, delivery)")
                  .Register(*registry_)),
      handler_(prometheus::BuildHistogram().Name("anipipe_handler_seconds").Help("Handler latency per record").Register(*registry_)),
      lag_(prometheus::BuildGauge()
               .Name("anipipe_consumer_lag")
               .Help("Consumer lag per partition (librdkafka statistics)")
               .Register(*registry_)),
      rebalances_(prometheus::BuildCounter().Name("anipipe_rebalances_total").Help("Partitions assigned or revoked").Register(*registry_)),
      dead_letters_(prometheus::BuildCounter()
                        .Name("anipipe_dlq_records_total")
                        .Help("Records sent to the dead-letter topic, by where they came from and the worker")
                        .Register(*registry_)),
      lag_seconds_(prometheus::BuildGauge()
                       .Name("anipipe_consumer_lag_seconds")
                       .Help("How far behind a partition is in time: 0 when caught up, else the age of the newest record consumed")
                       .Register(*registry_)),
      freshness_(prometheus::BuildHistogram()
                     .Name("anipipe_freshness_seconds")
                     .Help("From an upstream change's observation (ingest) to its effect landing, by stage: catalog, redis, "
                           "websocket, webhook")
                     .Register(*registry_)) {
  if (bind == "off" || bind.empty()) return;
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(bind, 2);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + bind + ": " + e.what() + ". Hint: pick a free port with --metrics-addr.");
  }
  exposer_->RegisterCollectable(registry_);
  auto ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
}

Metrics::~Metrics() = default;

prometheus::Counter& Metrics::counter(prometheus::Family<prometheus::Counter>& family, const prometheus::Labels& labels) {
  return family.Add(labels);
}

void Metrics::record_in(std::string_view topic) {
  std::lock_guard lock(cache_mutex_);
  auto it = in_cache_.find(topic);
  if (it == in_cache_.end()) it = in_cache_.emplace(std::string(topic), &in_.Add({{"topic", std::string(topic)}})).first;
  it->second->Increment();
}

void Metrics::record_out(std::string_view topic) { out_counter(topic).Increment(); }

prometheus::Counter& Metrics::out_counter(std::string_view topic) {
  std::lock_guard lock(cache_mutex_);
  auto it = out_cache_.find(topic);
  if (it == out_cache_.end()) it = out_cache_.emplace(std::string(topic), &out_.Add({{"topic", std::string(topic)}})).first;
  return *it->second;
}

void Metrics::record_failed(std::string_view topic, std::string_view outcome) {
  counter(failed_, {{"topic", std::string(topic)}, {"outcome", std::string(outcome)}}).Increment();
  if (outcome == "dead_letter") dead_lettered(topic);
}

void Metrics::dead_lettered(std::string_view source) {
  counter(dead_letters_, {{"source_topic", std::string(source)}, {"worker", worker_}}).Increment();
}

void Metrics::observe_freshness(std::string_view stage, std::string_view observed_at_ms) {
  std::int64_t observed = 0;
  const auto [p, ec] = std::from_chars(observed_at_ms.data(), observed_at_ms.data() + observed_at_ms.size(), observed);
  if (observed_at_ms.empty() || ec != std::errc{} || p != observed_at_ms.data() + observed_at_ms.size() || observed <= 0) return;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  static const prometheus::Histogram::BucketBoundaries buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                               2.5,   5,    10,    30,   60,  120,  300, 600};
  std::lock_guard lock(cache_mutex_);
  auto it = freshness_cache_.find(stage);
  if (it == freshness_cache_.end())
    it = freshness_cache_.emplace(std::string(stage), &freshness_.Add({{"stage", std::string(stage)}}, buckets)).first;
  it->second->Observe(std::max(0.0, static_cast<double>(now_ms - observed) / 1000.0));
}

void Metrics::consumed(std::string_view topic, std::int32_t partition, std::int64_t timestamp_ms) {
  if (timestamp_ms <= 0) return;
  std::lock_guard lock(consumed_mutex_);
  auto& at = consumed_at_[{std::string(topic), partition}];
  at = std::max(at, timestamp_ms);
}

void Metrics::observe_handler(std::string_view topic, double seconds) {
  std::lock_guard lock(cache_mutex_);
  auto it = handler_cache_.find(topic);
  if (it == handler_cache_.end())
    it = handler_cache_.emplace(std::string(topic), &handler_.Add({{"topic", std::string(topic)}}, latency_buckets())).first;
  it->second->Observe(seconds);
}

void Metrics::set_lag(std::string_view topic, std::int32_t partition, std::int64_t lag) {
  lag_.Add({{"topic", std::string(topic)}, {"partition", std::to_string(partition)}}).Set(static_cast<double>(lag));
}

void Metrics::rebalance(std::string_view kind) { counter(rebalances_, {{"kind", std::string(kind)}}).Increment(); }

void Metrics::update_from_librdkafka_stats(std::string_view json) {
  // STATISTICS.md: topics.<t>.partitions.<p>.consumer_lag; -1 where unknown, partition -1 is internal.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(doc)) return;
  simdjson::dom::object topics;
  if (doc["topics"].get(topics)) return;
  for (auto [topic, t] : topics) {
    simdjson::dom::object parts;
    if (t["partitions"].get(parts)) continue;
    for (auto [pname, p] : parts) {
      int64_t partition = 0, lag = -1;
      if (p["partition"].get(partition) || partition < 0) continue;
      bool desired = false;
      if (p["desired"].get(desired) || !desired) continue;
      if (p["consumer_lag"].get(lag) || lag < 0) continue;
      set_lag(topic, static_cast<std::int32_t>(partition), lag);
      // Behind in time: caught up is 0; otherwise the newest record consumed is at least this old.
      double seconds = 0;
      if (lag > 0) {
        std::lock_guard lock(consumed_mutex_);
        if (auto it = consumed_at_.find({std::string(topic), static_cast<std::int32_t>(partition)}); it != consumed_at_.end()) {
          const auto now_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
          seconds = std::max(0.0, static_cast<double>(now_ms - it->second) / 1000.0);
        }
      }
      lag_seconds_.Add({{"topic", std::string(topic)}, {"partition", std::to_string(partition)}}).Set(seconds);
    }
  }
}

}  // namespace anipipe::metrics
