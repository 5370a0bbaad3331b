#include "reconcile.hpp"

#include <cstdio>
#include <stdexcept>

#include "event_publisher.hpp"
#include "json/schema.hpp"
#include "kafka/producer.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "recent_event_ids.hpp"
#include "runtime/shutdown.hpp"

namespace anipipe::ops {

int reconcile(const kafka::Settings& kafka, ReconcileOptions o) {
  if (o.titles.empty() && o.upstream_url.empty())
    throw std::invalid_argument("a whole sweep needs --upstream-url (the v1 API root ingest polls); or name titles with --title");
  // Progress as JSON lines on stderr; stdout carries the result line alone.
  log::init("ops", "info");
  const auto& stop = runtime::install_shutdown_handlers();
  auto schemas = json::SchemaRegistry::load_directories(o.schema_dirs);
  metrics::Metrics metrics("ops", "off");
  ingest::RecentEventIds recent(100'000);
  kafka::Producer producer(kafka);
  producer.prepare(o.events_topic);
  ingest::EventPublisher publisher(producer, schemas, metrics, recent, {o.events_topic, o.dlq_topic});
  http::ClientOptions http;
  http.max_retries = 3;
  http::Client client(o.upstream_url.empty() ? "http://127.0.0.1:1" : o.upstream_url, http, nullptr, "upstream_sweep");
  o.sweep.who = "ops";
  ingest::ReconcileSweep sweep(o.sweep, client, publisher, kafka, nullptr);
  const auto result = o.titles.empty() ? sweep.run(stop) : sweep.run_titles(o.titles, stop);
  // Done when the broker has every observation (acks=all), not when they are queued.
  while (producer.pending() > 0 && !stop.load()) producer.flush(std::chrono::milliseconds(500));
  std::printf("%s\n", result.to_json().c_str());
  return result.complete && result.error.empty() && producer.pending() == 0 ? 0 : 1;
}

}  // namespace anipipe::ops
