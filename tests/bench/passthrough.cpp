// anipipe-bench-passthrough: the reference for ingest's benchmark. Produces every line of an NDJSON
// file unchanged to a topic with the same producer settings ingest uses (idempotent, acks=all):
// what Kafka costs on this machine, with no parsing, normalizing, validating or deduping.
// --event-headers adds ingest's five headers: fed ingest's own events, what Kafka alone costs for
// ingest's output.
#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
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

  // The cheapest produce path there is (the one ingest uses): records by reference, one delivery
  // handler, headers on the stack; nothing of ours is allocated per record.
  struct Failures final : anipipe::kafka::DeliveryHandler {
    std::size_t count = 0;
    void on_delivery(const anipipe::kafka::DeliveryResult& d, std::string_view) noexcept override { count += !d.ok; }
  } failures;
  anipipe::kafka::Producer producer(kafka);
  producer.prepare(topic);
  std::size_t n = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t p = 0; p < text.size();) {
    std::size_t nl = text.find('\n', p);
    if (nl == std::string::npos) nl = text.size();
    if (nl > p) {
      const std::string_view line(text.data() + p, nl - p);
      char key[24];
      const auto key_end = std::to_chars(key, key + sizeof key, 1000 + n % 5000).ptr;  // spread like title ids
      // As ingest heads an event: its id (at the start of the event) as trace and correlation id.
      const std::string_view id = line.size() > 45 ? line.substr(13, 32) : std::string_view("00000000000000000000000000000000");
      char traceparent[anipipe::kafka::kTraceparentSize];
      namespace names = anipipe::kafka::header_names;
      const anipipe::kafka::RecordView::Header headers[] = {
          {names::traceparent, anipipe::kafka::write_traceparent(id, traceparent)},
          {names::correlation_id, id},
          {names::schema, "anilibria.upstream.events"},
          {names::schema_version, "1"},
          {names::producer, "ingest"},
      };
      producer.produce(anipipe::kafka::RecordView{topic, std::string_view(key, static_cast<std::size_t>(key_end - key)), line,
                                                  std::span(headers, event_headers ? 5 : 0)},
                       failures);
      ++n;
      if ((n & 1023) == 0) producer.poll(std::chrono::milliseconds(0));
    }
    p = nl + 1;
  }
  while (producer.pending() > 0) producer.flush(std::chrono::milliseconds(500));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("{\"messages\":%zu,\"failed\":%zu,\"seconds\":%.3f,\"messages_per_s\":%.0f}\n", n, failures.count, seconds,
              static_cast<double>(n) / seconds);
  return failures.count ? 1 : 0;
}
