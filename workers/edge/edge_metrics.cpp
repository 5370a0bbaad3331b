#include "edge_metrics.hpp"

#include <vector>

namespace anipipe::edge {

namespace {
const prometheus::Histogram::BucketBoundaries kLatency{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

EdgeMetrics::EdgeMetrics(prometheus::Registry& r)
    : requests_(prometheus::BuildCounter()
                    .Name("anipipe_edge_requests_total")
                    .Help("HTTP requests by route template, method and status code")
                    .Register(r)),
      latency_(prometheus::BuildHistogram()
                   .Name("anipipe_edge_request_seconds")
                   .Help("From a request read to its response handed to the socket, by route template and method")
                   .Register(r)),
      refused_connections_(prometheus::BuildCounter()
                               .Name("anipipe_edge_connections_refused_total")
                               .Help("Connections closed at once: over --max-connections or --max-connections-per-ip")
                               .Register(r)
                               .Add({})),
      ws_connections_(
          prometheus::BuildGauge().Name("anipipe_edge_websocket_connections").Help("Open WebSocket connections").Register(r).Add({})),
      ws_opened_(prometheus::BuildCounter()
                     .Name("anipipe_edge_websocket_connections_total")
                     .Help("WebSocket connections accepted")
                     .Register(r)
                     .Add({})),
      ws_pushes_(prometheus::BuildCounter()
                     .Name("anipipe_edge_websocket_pushes_total")
                     .Help("Messages queued to WebSocket clients (new episodes, title updates, notifications)")
                     .Register(r)
                     .Add({})),
      ws_dropped_(prometheus::BuildCounter()
                      .Name("anipipe_edge_websocket_dropped_total")
                      .Help("WebSocket clients disconnected for not keeping up (--ws-queue-max)")
                      .Register(r)
                      .Add({})),
      ws_recoveries_(prometheus::BuildCounter()
                         .Name("anipipe_edge_websocket_recoveries_total")
                         .Help("Clients back with since that were replayed what they missed, by source (memory, kafka)")
                         .Register(r)),
      ws_recovered_records_(prometheus::BuildCounter()
                                .Name("anipipe_edge_websocket_recovered_records_total")
                                .Help("Pushes replayed to clients back with since, by source (memory, kafka)")
                                .Register(r)),
      ws_recovery_gaps_(prometheus::BuildCounter()
                            .Name("anipipe_edge_websocket_recovery_gaps_total")
                            .Help("recovery_gap answers, by reason (retention, epoch, bound, unavailable)")
                            .Register(r)),
      misses_(prometheus::BuildCounter()
                  .Name("anipipe_edge_misses_total")
                  .Help("Reads of a title the catalog does not have, by outcome")
                  .Register(r)),
      writes_(prometheus::BuildCounter()
                  .Name("anipipe_edge_writes_total")
                  .Help("Records the internal API produced, by outcome (written, invalid, timed_out, pending, failed)")
                  .Register(r)),
      writes_in_flight_(prometheus::BuildGauge()
                            .Name("anipipe_edge_writes_in_flight")
                            .Help("Records produced and not yet acknowledged (a broker outage shows here)")
                            .Register(r)
                            .Add({})) {}

void EdgeMetrics::request(std::string_view route, std::string_view method, int status, double seconds) {
  // Every request passes here on an I/O thread: each thread remembers the series it used, so the
  // shared list (and its lock) is only visited for a combination the thread has not seen yet.
  struct Seen {
    const EdgeMetrics* owner;
    std::string route, method;
    int status;
    Series* series;
  };
  thread_local std::vector<Seen> seen;
  Series* s = nullptr;
  for (const auto& x : seen)
    if (x.owner == this && x.status == status && x.route == route && x.method == method) s = x.series;
  if (!s) {
    const std::string code = std::to_string(status);
    std::lock_guard lock(mutex_);
    for (auto& x : series_)
      if (x.route == route && x.method == method && x.status == code) s = &x;
    if (!s) {
      auto& count = requests_.Add({{"route", std::string(route)}, {"method", std::string(method)}, {"status", code}});
      auto& hist = latency_.Add({{"route", std::string(route)}, {"method", std::string(method)}}, kLatency);
      series_.push_back({std::string(route), std::string(method), code, &count, &hist});
      s = &series_.back();
    }
    seen.push_back({this, std::string(route), std::string(method), status, s});
  }
  s->count->Increment();
  s->latency->Observe(seconds);
}

void EdgeMetrics::recovered(std::string_view source, double records) {
  ws_recoveries_.Add({{"source", std::string(source)}}).Increment();
  ws_recovered_records_.Add({{"source", std::string(source)}}).Increment(records);
}
void EdgeMetrics::recovery_gap(std::string_view reason) { ws_recovery_gaps_.Add({{"reason", std::string(reason)}}).Increment(); }
void EdgeMetrics::miss(std::string_view outcome) { misses_.Add({{"outcome", std::string(outcome)}}).Increment(); }
void EdgeMetrics::write(std::string_view outcome) { writes_.Add({{"outcome", std::string(outcome)}}).Increment(); }

std::string_view EdgeMetrics::route_of(std::string_view path) {
  for (std::string_view base : {"/api/anilibria/v2/titles", "/api/anilibria/v1/titles"}) {
    if (path == base || path == std::string(base) + "/") return base;
    if (path.starts_with(base) && path.size() > base.size() && path[base.size()] == '/')
      return base.ends_with("v2/titles") ? "/api/anilibria/v2/titles/{id}" : "/api/anilibria/v1/titles/{id}";
  }
  for (std::string_view known :
       {"/api/anilibria/v2/ws", "/internal/sync/title", "/internal/stats", "/internal/cache/clear", "/internal/subscriptions",
        "/internal/notifications", "/api/notifications", "/health", "/ready", "/metrics", "/demo"})
    if (path == known) return known;
  if (path.starts_with("/api/notifications/") && path.ends_with("/read")) return "/api/notifications/{id}/read";
  return "other";
}

}  // namespace anipipe::edge
