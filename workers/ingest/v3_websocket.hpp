#pragma once
// The v3 WebSocket protocol (docs/upstream.md, "The legacy v3 WebSocket"), still spoken by
// mirrors and recordings: connect, read the greeting, send the subscribe message, read the ack,
// then normalize every frame.
// A dropped or silent connection is reconnected with jittered exponential backoff and the
// subscription is sent again; unknown event types are counted by the publisher, not fatal.
#include <atomic>
#include <chrono>
#include <string>

#include "event_publisher.hpp"
#include "upstream/normalizer.hpp"

namespace anipipe::ingest {

struct V3Options {
  std::string url;  // ws://host:port/path or wss://...
  std::string subscribe = R"({"subscribe":{"data":{}}})";
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds idle_timeout{90'000};  // the server pings every 30 s
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
};

/// Runs until stop is set; every frame goes through normalizer into publisher.
void run_v3_websocket(const V3Options& options, upstream::Normalizer& normalizer, EventPublisher& publisher, prometheus::Registry& metrics,
                      const std::atomic<bool>& stop);

}  // namespace anipipe::ingest
