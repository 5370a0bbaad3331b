#pragma once
// What the edge counts (GET /metrics, Prometheus text): per route, method and status class the
// requests and their latency (the seeds' SLA: p95 < 500 ms, errors < 0.1 %), WebSocket
// connections, pushes and drops, recoveries (replayed records by source, gaps by reason), refused connections, unknown-id misses by outcome, and its
// producer's writes by outcome and the records in flight. Routes are the templates
// ("/api/anilibria/v2/titles/{id}"), never raw paths, so a scan of made-up URLs adds no series.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace anipipe::edge {

class EdgeMetrics {
public:
  explicit EdgeMetrics(prometheus::Registry& registry);

  /// route: a template (route_of); status: the HTTP status.
  void request(std::string_view route, std::string_view method, int status, double seconds);
  void refused_connection() { refused_connections_.Increment(); }
  void websocket_opened() {
    ws_connections_.Increment();
    ws_opened_.Increment();
  }
  void websocket_closed() { ws_connections_.Decrement(); }
  void pushed(double n) { ws_pushes_.Increment(n); }
  void dropped_slow_client() { ws_dropped_.Increment(); }
  /// A client back with `since` was replayed what it missed (source: memory, kafka).
  void recovered(std::string_view source, double records);
  /// reason: retention, epoch, bound, unavailable (recovery_gap).
  void recovery_gap(std::string_view reason);
  /// outcome: hit_negative (a recent not-found answered at once), refused (over the miss budget),
  /// coalesced (joined another request's sync), synced, not_found, unavailable.
  void miss(std::string_view outcome);
  /// outcome: written, invalid, timed_out (not written: 503), pending (may yet be written: 202 pending), failed.
  void write(std::string_view outcome);
  prometheus::Gauge& writes_in_flight() { return writes_in_flight_; }

  /// The route template of a path, for labels.
  static std::string_view route_of(std::string_view path);

private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Counter& refused_connections_;
  prometheus::Gauge& ws_connections_;
  prometheus::Counter& ws_opened_;
  prometheus::Counter& ws_pushes_;
  prometheus::Counter& ws_dropped_;
  prometheus::Family<prometheus::Counter>& ws_recoveries_;
  prometheus::Family<prometheus::Counter>& ws_recovered_records_;
  prometheus::Family<prometheus::Counter>& ws_recovery_gaps_;
  prometheus::Family<prometheus::Counter>& misses_;
  prometheus::Family<prometheus::Counter>& writes_;
  prometheus::Gauge& writes_in_flight_;
  // Family::Add hashes and locks; the handful of label sets are looked up here instead.
  struct Series {
    std::string route, method, status;
    prometheus::Counter* count;
    prometheus::Histogram* latency;
  };
  std::mutex mutex_;
  std::deque<Series> series_;  // references stay valid as it grows
};

}  // namespace anipipe::edge
