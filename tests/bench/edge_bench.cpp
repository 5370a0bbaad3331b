// anipipe-bench-edge latency CONTROL_URL EDGE_PORT N FIRST_ID FIXTURE
//   End-to-end latency, one event at a time: a v3 title_update (the fixture with its id replaced
//   by FIRST_ID+i, so each is a new title with new episodes) pushed by the fake upstream's v3
//   WebSocket (POST CONTROL_URL/_control/ws_send), through ingest, sync and the edge, to a
//   WebSocket client of the edge subscribed to those titles: the time from the push request to
//   the first new_episode message of that title (after 10 warm-up events). Prints {"events", "p50_ms", "p99_ms", "max_ms"}.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "http/client.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc != 7 || std::string(argv[1]) != "latency") {
    std::fprintf(stderr, "usage: anipipe-bench-edge latency CONTROL_URL EDGE_PORT N FIRST_ID FIXTURE\n");
    return 2;
  }
  const std::string control_url = argv[2];
  const std::string port = argv[3];
  // The first events pay for connections, metadata and first fetches along the chain: warm-up,
  // sent and awaited like the others but not counted.
  constexpr int kWarmUp = 10;
  const int n = std::atoi(argv[4]) + kWarmUp;
  const long first = std::atol(argv[5]);
  std::ifstream in(argv[6]);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string fixture = ss.str();
  const std::string id_field = "\"id\": 9000,";
  const auto id_at = fixture.find(id_field);
  if (id_at == std::string::npos) {
    std::fprintf(stderr, "the fixture has no \"id\": 9000\n");
    return 2;
  }

  boost::asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws(ioc);
  boost::asio::ip::tcp::resolver resolver(ioc);
  beast::get_lowest_layer(ws).connect(resolver.resolve("127.0.0.1", port));
  beast::get_lowest_layer(ws).socket().set_option(boost::asio::ip::tcp::no_delay(true));
  ws.handshake("127.0.0.1", "/api/anilibria/v2/ws");
  beast::flat_buffer buffer;
  auto next_message = [&](std::chrono::milliseconds timeout) -> std::string {
    beast::get_lowest_layer(ws).expires_after(timeout);
    buffer.clear();
    beast::error_code ec;
    ws.read(buffer, ec);
    if (ec) return {};
    return beast::buffers_to_string(buffer.data());
  };
  // One at a time: the edge drops a client that lets its replies pile up (--ws-queue-max).
  for (int i = 0; i < n; ++i) {
    ws.write(boost::asio::buffer(R"({"type":"subscribe_title","title_id":)" + std::to_string(first + i) + "}"));
    for (;;) {
      const auto m = next_message(std::chrono::seconds(10));
      if (m.empty() || m.find(R"("type":"error")") != std::string::npos) {
        std::fprintf(stderr, "subscription %d of %d refused or not acknowledged: %s\n", i + 1, n, m.c_str());
        return 1;
      }
      if (m.find(R"("type":"subscribed")") != std::string::npos) break;
    }
  }

  anipipe::http::ClientOptions o;
  o.max_retries = 0;
  anipipe::http::Client control(control_url, o);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto id = std::to_string(first + i);
    std::string frame = fixture;
    frame.replace(id_at, id_field.size(), "\"id\": " + id + ",");
    const std::string needle = R"("type":"new_episode","title_id":)" + id + ",";
    const auto sent = Clock::now();
    control.post("/_control/ws_send", frame, "application/json");
    for (;;) {
      const auto m = next_message(std::chrono::seconds(30));
      if (m.empty()) {
        std::fprintf(stderr, "no new_episode for title %s within 30 s (%d done)\n", id.c_str(), i);
        return 1;
      }
      if (m.find(needle) != std::string::npos) break;
    }
    if (i < kWarmUp) continue;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    // ANIPIPE_BENCH_TRACE=1: per event, the wall-clock send and arrival (epoch ms) on stderr, to
    // line up with the records' timestamps in each topic and see which hop takes the time.
    if (std::getenv("ANIPIPE_BENCH_TRACE")) {
      const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      std::fprintf(stderr, "trace %s sent %lld arrived %lld\n", id.c_str(),
                   static_cast<long long>(wall - static_cast<long long>(ms.back())), static_cast<long long>(wall));
    }
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ms.size())))]; };
  std::printf("{\"events\":%zu,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f}\n", ms.size(), pct(0.50), pct(0.99), ms.back());
  return 0;
}
