#pragma once
// Prometheus metrics for one process, served on /metrics by prometheus-cpp's exposer.
// The standard worker metrics live here so every worker exports the same names:
//   anipipe_records_in_total{topic}, anipipe_records_out_total{topic},
//   anipipe_records_failed_total{topic,outcome}, anipipe_handler_seconds{topic},
//   anipipe_consumer_lag{topic,partition}, anipipe_consumer_lag_seconds{topic,partition},
//   anipipe_rebalances_total{kind}, anipipe_dlq_records_total{source_topic,worker},
//   anipipe_freshness_seconds{stage}.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace prometheus {
class Exposer;
}

namespace anipipe::metrics {

class Metrics {
public:
  /// bind: "127.0.0.1:9464", or a port of 0 for any free port, or "off" to serve nothing.
  Metrics(std::string worker, const std::string& bind);
  ~Metrics();

  prometheus::Registry& registry() { return *registry_; }
  /// The port /metrics is served on (0 if off).
  int port() const { return port_; }

  void record_in(std::string_view topic);
  void record_out(std::string_view topic);
  /// The counter record_out(topic) increments, for a caller that counts every record (no lookup).
  prometheus::Counter& out_counter(std::string_view topic);
  void record_failed(std::string_view topic, std::string_view outcome);
  /// A record of source (a topic, or an origin such as "upstream:/anime/releases/latest") sent to
  /// the DLQ. record_failed(topic, "dead_letter") counts here too.
  void dead_lettered(std::string_view source);
  /// The newest record consumed from a partition, by its timestamp: with the partition's lag in
  /// records (librdkafka statistics), the lag in seconds is the time since it.
  void consumed(std::string_view topic, std::int32_t partition, std::int64_t timestamp_ms);
  /// An effect of an upstream observation landed: stage (catalog, redis, websocket, webhook) and
  /// the observation's time (unix ms, the records' observed-at header; empty or bad: not counted).
  void observe_freshness(std::string_view stage, std::string_view observed_at_ms);
  void observe_handler(std::string_view topic, double seconds);
  void set_lag(std::string_view topic, std::int32_t partition, std::int64_t lag);
  void rebalance(std::string_view kind);
  /// Parses librdkafka's statistics JSON and sets consumer lag per assigned partition.
  void update_from_librdkafka_stats(std::string_view json);

private:
  prometheus::Counter& counter(prometheus::Family<prometheus::Counter>& family, const prometheus::Labels& labels);

  std::string worker_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  prometheus::Family<prometheus::Counter>& in_;
  prometheus::Family<prometheus::Counter>& out_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Family<prometheus::Histogram>& handler_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Counter>& rebalances_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Family<prometheus::Gauge>& lag_seconds_;
  prometheus::Family<prometheus::Histogram>& freshness_;
  std::map<std::string, prometheus::Histogram*, std::less<>> freshness_cache_;
  std::mutex consumed_mutex_;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> consumed_at_;  // newest consumed timestamp
  // Family::Add takes a lock and hashes labels; the hot path looks counters up here instead.
  std::mutex cache_mutex_;
  std::map<std::string, prometheus::Counter*, std::less<>> in_cache_, out_cache_;
  std::map<std::string, prometheus::Histogram*, std::less<>> handler_cache_;
};

}  // namespace anipipe::metrics
