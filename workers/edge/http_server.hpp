#pragma once
// The edge's one port: HTTP/1.1 keep-alive and WebSocket (Boost.Beast on Asio), a thread per
// core. Requests that may wait on Kafka or Redis (Api::dispatch: every internal write, a sync, an
// unknown title, a flag the cache lacks) run on a separate pool so neither a slow sync nor a broker
// outage holds an I/O thread; requests for a legacy back end are proxied asynchronously on the I/O
// threads themselves (async_proxy.hpp), holding no thread while the legacy answers.
// Limits: connections in total and per address (beyond them a connection gets a 503 and is
// closed), body size (413), header size (431), a read deadline per request, a write deadline per
// response (a client that does not read is cut off, not buffered for), message framing exactly as
// RFC 9112 has it (a Transfer-Encoding that is not a final chunked is a 400 and the connection
// closes: its body cannot be told from a next request), and per WebSocket connection a bounded
// send queue (a client that cannot keep up is disconnected) and ping/pong keep-alive.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http_api.hpp"
#include "kafka/partition_range.hpp"
#include "live_hub.hpp"

namespace anipipe::edge {

struct ServerSettings {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::size_t threads = 0;  // 0: one per core
  std::size_t blocking_threads = 16;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};  // to send a whole response
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_ip = 128;          // a trusted proxy's own address has no such limit
  std::string trusted_proxies;                       // client_address.hpp
  std::size_t ws_queue_max = 256;                    // messages waiting for a slow WebSocket client
  std::size_t ws_max_subscriptions = 1'000;          // an authenticated connection
  std::size_t ws_max_subscriptions_anonymous = 100;  // a connection without a user token
  std::size_t ws_history_records = 1'000;            // recent pushes kept per partition of a live topic, for `since`
  std::chrono::seconds ws_history_max_age{3'600};
  std::int64_t ws_recovery_max_records = 10'000;                    // a client further behind gets recovery_gap
  std::size_t ws_recovery_pending = 256;                            // replays from Kafka queued at once (beyond: recovery_gap)
  kafka::Partitioner ws_partitioner = kafka::Partitioner::murmur2;  // the producers', for positions of streams with no push yet
  std::chrono::seconds ws_idle_timeout{30};                         // pings after half of it; closed without a pong
  std::string ws_path = "/api/anilibria/v2/ws";
};

class HttpServer {
public:
  HttpServer(ServerSettings settings, Api& api, LiveHub& hub);
  ~HttpServer();
  /// Binds and starts serving; throws if the address cannot be bound. Returns the bound port.
  unsigned short start();
  /// Stops accepting, closes connections, joins the threads.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anipipe::edge
