#include "ops_server.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <set>
#include <thread>

#include "log/log.hpp"
#include "util/hmac.hpp"

namespace anipipe::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--listen must be HOST:PORT, not '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) throw std::invalid_argument("--listen needs an IP address, not '" + host + "'");
  return {address, static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))};
}

/// Host headers a loopback-only page answers to: anything else is a page elsewhere that resolved
/// its own name to 127.0.0.1 (DNS rebinding) and must not read or re-drive.
bool loopback_host(std::string_view host, unsigned short port) {
  const std::string p = ":" + std::to_string(port);
  for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
    if (host == std::string(name) + p) return true;
  return false;
}

struct Sessions {
  std::mutex mutex;
  std::condition_variable done;
  std::set<int> sockets;  // native handles of live sessions, shut down at stop
};

void session(tcp::socket socket, OpsApi& api, const ServeOptions& o, unsigned short port, Sessions& sessions) {
  // An idle or slow client holds a thread: 30 s without a byte and the connection is closed.
  timeval tv{30, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024);
    parser.header_limit(16 * 1024);
    boost::system::error_code ec;
    bhttp::read(socket, buffer, parser, ec);
    if (ec) break;
    auto& req = parser.get();
    ApiResponse r;
    const std::string target(req.target());
    // /metrics stays open like every worker's (counts and topic names; Prometheus scrapes it).
    const bool api_route = target.starts_with("/api/");
    const std::string auth(req[bhttp::field::authorization]);
    if (o.token.empty() && !loopback_host(req[bhttp::field::host], port)) {
      r = {403,
           "application/json",
           R"J({"error":"forbidden","message":"this page answers to 127.0.0.1 and localhost only (or start it with a token)"})J",
           {}};
    } else if (api_route && !o.token.empty() &&
               !(auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0) &&
                 util::constant_time_equal(std::string_view(auth).substr(7), o.token))) {
      r = {401,
           "application/json",
           R"({"error":"unauthorized","message":"Authorization: Bearer <the --token> is required"})",
           {{"WWW-Authenticate", "Bearer"}}};
    } else if (req.method() == bhttp::verb::post && req["X-Anipipe-Ops"] != "1") {
      r = {
          403, "application/json", R"J({"error":"forbidden","message":"POSTs need the X-Anipipe-Ops: 1 header (the page sends it)"})J", {}};
    } else {
      r = api.handle({std::string(req.method_string()), target, req.body()});
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    res.set(bhttp::field::server, "anipipe-ops");
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(req.keep_alive());
    if (req.method() != bhttp::verb::head) res.body() = std::move(r.body);
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  std::lock_guard lock(sessions.mutex);
  sessions.sockets.erase(socket.native_handle());
  sessions.done.notify_all();
}

}  // namespace

int serve(const kafka::Settings& kafka, const ServeOptions& o) {
  log::init("ops", "info");
  const auto endpoint = parse_listen(o.listen);
  if (!endpoint.address().is_loopback() && o.token.empty())
    throw std::invalid_argument("--listen " + o.listen + " is reachable from other machines: give a --token (ANIPIPE_OPS_TOKEN) too");
  OpsApi api(kafka, o);
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, endpoint);
  const auto port = acceptor.local_endpoint().port();
  spdlog::info("ops page listening on http://{}:{}/ (DLQ {}, {} metrics URL(s) for freshness)",
               endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]" : endpoint.address().to_string(), port, o.dlq_topic,
               o.metrics_urls.size());

  std::atomic<bool> stop{false};
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  // The DLQ depth for /metrics, read in the background: a scrape never waits for Kafka.
  std::thread depth([&] {
    while (!stop.load()) {
      try {
        api.refresh_dlq_depth();
      } catch (const std::exception& e) {
        spdlog::warn("reading {} for the depth gauges: {}", o.dlq_topic, e.what());
      }
      std::unique_lock lock(stop_mutex);
      stop_cv.wait_for(lock, o.dlq_depth_interval, [&] { return stop.load(); });
    }
  });

  Sessions sessions;
  std::function<void()> accept = [&] {
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!stop.load()) accept();
        return;
      }
      {
        std::lock_guard lock(sessions.mutex);
        if (sessions.sockets.size() >= o.max_connections) {
          // Over the limit: refused at once rather than queued behind slow sessions.
          static constexpr char kBusy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                          "Content-Length: 56\r\n\r\n{\"error\":\"busy\",\"message\":\"too many connections; retry\"}";
          boost::system::error_code ignored;
          asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ignored);
          accept();
          return;
        }
        sessions.sockets.insert(socket.native_handle());
      }
      std::thread(session, std::move(socket), std::ref(api), std::cref(o), port, std::ref(sessions)).detach();
      accept();
    });
  };
  accept();
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int sig) {
    spdlog::info("signal {}: stopping", sig);
    stop = true;
    stop_cv.notify_all();
    boost::system::error_code ignored;
    acceptor.close(ignored);
  });
  ioc.run();
  // Sessions end: their sockets are shut down, each thread finishes its request and leaves.
  {
    std::unique_lock lock(sessions.mutex);
    for (int fd : sessions.sockets) ::shutdown(fd, SHUT_RDWR);
    if (!sessions.done.wait_for(lock, std::chrono::seconds(35), [&] { return sessions.sockets.empty(); })) {
      // A session stuck in Kafka past every timeout still uses the API: leave without unwinding it.
      spdlog::warn("{} session(s) still busy; exiting anyway", sessions.sockets.size());
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
  }
  depth.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace anipipe::ops
