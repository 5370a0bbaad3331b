// anipipe-bench-passthrough: the reference for ingest's benchmark. Produces every line of an NDJSON
// file unchanged to a topic with the same producer settings ingest uses (idempotent, acks=all):
// what Kafka costs on this machine, with no parsing, normalizing, validating or deduping.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/options.hpp"
#include "kafka/producer.hpp"

int main(int argc, char** argv) {
  CLI::App app{"anipipe-bench-passthrough: raw NDJSON lines into a topic (benchmark reference)"};
  anipipe::kafka::Settings kafka;
  std::string file, topic = "anipipe.bench.passthrough";
  anipipe::config::add_kafka_options(app, kafka);
  app.add_option("file", file, "NDJSON file")->required()->check(CLI::ExistingFile);
  app.add_option("--topic", topic, "Target topic")->capture_default_str();
  bool event_headers = false;
  app.add_flag("--event-headers", event_headers,
               "Add the five headers ingest puts on every event (what Kafka costs for ingest's output shape)");
  anipipe::config::parse_or_exit(app, argc, argv);

  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  anipipe::kafka::Producer producer(kafka);
  std::size_t n = 0, failed = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t p = 0; p < text.size();) {
    std::size_t nl = text.find('\n', p);
    if (nl == std::string::npos) nl = text.size();
    if (nl > p) {
      anipipe::kafka::OutRecord r;
      r.topic = topic;
      r.key = std::to_string(n % 5000);  // spread like title ids
      r.value = text.substr(p, nl - p);
      if (event_headers) {
        r.headers = anipipe::kafka::EventHeaders::new_root("ingest");
        r.headers.schema = "anilibria.upstream.events";
        r.headers.schema_version = "1";
      }
      producer.produce(r, [&failed](const anipipe::kafka::DeliveryResult& d) { failed += !d.ok; });
      ++n;
      if ((n & 1023) == 0) producer.poll(std::chrono::milliseconds(0));
    }
    p = nl + 1;
  }
  while (producer.pending() > 0) producer.flush(std::chrono::milliseconds(500));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("{\"messages\":%zu,\"failed\":%zu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n", n, failed, seconds,
              static_cast<double>(n) / seconds);
  return failed ? 1 : 0;
}
