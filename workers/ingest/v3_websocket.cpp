#include "v3_websocket.hpp"

#include <openssl/ssl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <thread>

#include "http/client.hpp"
#include "util/backoff.hpp"
#include "util/clock.hpp"

namespace anipipe::ingest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;

/// Runs the io_context one handler at a time until `done` or stop; false if stopped first.
/// (run_for would return only at the end of its slice, because the WebSocket's idle timer keeps
/// the context busy: every frame would wait up to the slice, ~100 ms, before being published.)
bool run_until(asio::io_context& ioc, const bool& done, const std::atomic<bool>& stop) {
  ioc.restart();
  while (!done && !stop.load()) ioc.run_one_for(std::chrono::milliseconds(100));
  return done;
}

template <class Stream>
class Session {
public:
  Session(asio::io_context& ioc, Stream stream) : ioc_(ioc), ws_(std::move(stream)) {}
  ws::stream<Stream>& socket() { return ws_; }

  beast::error_code handshake(const http::Url& url, const std::string& target, const std::atomic<bool>& stop) {
    beast::error_code ec;
    bool done = false;
    ws_.set_option(ws::stream_base::decorator([](ws::request_type& req) { req.set(beast::http::field::user_agent, "anipipe-ingest"); }));
    ws_.async_handshake(url.host + ":" + url.port, target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run_until(ioc_, done, stop)) return asio::error::operation_aborted;
    return ec;
  }
  beast::error_code write(const std::string& text, const std::atomic<bool>& stop) {
    beast::error_code ec;
    bool done = false;
    ws_.text(true);
    ws_.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(ioc_, done, stop)) return asio::error::operation_aborted;
    return ec;
  }
  /// One message into buffer; the stream's idle timeout ends a silent connection.
  beast::error_code read(beast::flat_buffer& buffer, const std::atomic<bool>& stop) {
    beast::error_code ec;
    bool done = false;
    ws_.async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(ioc_, done, stop)) return asio::error::operation_aborted;
    return ec;
  }

private:
  asio::io_context& ioc_;
  ws::stream<Stream> ws_;
};

/// One connection's life: handshake, subscribe, frames until it drops. Returns true if the
/// connection got as far as the subscribe acknowledgement (so the backoff can start over).
template <class Stream>
bool serve(Session<Stream>& session, const http::Url& url, const std::string& target, const V3Options& o, upstream::Normalizer& normalizer,
           EventPublisher& publisher, prometheus::Counter& frames, const std::atomic<bool>& stop) {
  ws::stream_base::timeout timeouts = ws::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = o.connect_timeout;
  timeouts.idle_timeout = o.idle_timeout;
  timeouts.keep_alive_pings = true;
  session.socket().set_option(timeouts);
  if (auto ec = session.handshake(url, target, stop)) throw beast::system_error(ec);
  bool subscribed = false, sent_subscribe = false;
  beast::flat_buffer buffer;
  const std::string origin = "upstream:" + target;
  while (!stop.load()) {
    buffer.clear();
    if (auto ec = session.read(buffer, stop)) {
      if (ec == asio::error::operation_aborted && stop.load()) break;
      throw beast::system_error(ec);
    }
    frames.Increment();
    const auto data = buffer.data();
    std::string text(static_cast<const char*>(data.data()), data.size());
    auto n = normalizer.normalize_copy(text, "v3", target, util::now_rfc3339());
    const bool is_greeting = n.status == upstream::Normalized::Status::ignored && n.reason == "v3 greeting";
    const bool is_ack = n.status == upstream::Normalized::Status::ignored && n.reason == "v3 subscribe acknowledgement";
    publisher.publish(n, text, "v3", origin);
    // Subscribe after the greeting (or after the first frame if a server sends none).
    if (!sent_subscribe && (is_greeting || !is_ack)) {
      if (auto ec = session.write(o.subscribe, stop)) throw beast::system_error(ec);
      sent_subscribe = true;
      spdlog::info("v3: connected to {}, subscribed", url.host);
    }
    if (is_ack) subscribed = true;
  }
  return subscribed;
}

}  // namespace

void run_v3_websocket(const V3Options& o, upstream::Normalizer& normalizer, EventPublisher& publisher, prometheus::Registry& metrics,
                      const std::atomic<bool>& stop) {
  std::string as_http = o.url;
  if (as_http.starts_with("ws://")) as_http = "http://" + as_http.substr(5);
  else if (as_http.starts_with("wss://")) as_http = "https://" + as_http.substr(6);
  else throw std::invalid_argument("--v3-url must start with ws:// or wss://: " + o.url);
  const http::Url url = http::Url::parse(as_http);
  const std::string target = url.path.empty() ? "/" : url.path + "/";

  auto& connects = prometheus::BuildCounter()
                       .Name("anipipe_ingest_v3_connections_total")
                       .Help("v3 WebSocket connection attempts by outcome")
                       .Register(metrics);
  auto& frames =
      prometheus::BuildCounter().Name("anipipe_ingest_v3_frames_total").Help("v3 WebSocket frames received").Register(metrics).Add({});
  auto& connected =
      prometheus::BuildGauge().Name("anipipe_ingest_v3_connected").Help("1 while the v3 WebSocket is up").Register(metrics).Add({});
  util::Backoff backoff{o.backoff_initial, o.backoff_max, 2.0};
  int failures = 0;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);

  while (!stop.load()) {
    bool reached_ack = false;
    try {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      auto endpoints = resolver.resolve(url.host, url.port);
      beast::tcp_stream tcp_stream(ioc);
      tcp_stream.expires_after(o.connect_timeout);
      beast::error_code ec;
      bool done = false;
      tcp_stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
        ec = e;
        done = true;
      });
      if (!run_until(ioc, done, stop)) break;
      if (ec) throw beast::system_error(ec);
      tcp_stream.expires_never();  // the websocket's own timeouts take over
      connects.Add({{"outcome", "connected"}}).Increment();
      connected.Set(1);
      if (url.tls) {
        beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), tls);
        if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), url.host.c_str())) throw std::runtime_error("TLS: SNI failed");
        tls_stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
        bool hs = false;
        tls_stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) {
          ec = e;
          hs = true;
        });
        if (!run_until(ioc, hs, stop)) break;
        if (ec) throw beast::system_error(ec);
        Session<beast::ssl_stream<beast::tcp_stream>> session(ioc, std::move(tls_stream));
        reached_ack = serve(session, url, target, o, normalizer, publisher, frames, stop);
      } else {
        Session<beast::tcp_stream> session(ioc, std::move(tcp_stream));
        reached_ack = serve(session, url, target, o, normalizer, publisher, frames, stop);
      }
    } catch (const std::exception& e) {
      connects.Add({{"outcome", "failed_or_dropped"}}).Increment();
      spdlog::warn("v3: connection to {} lost or failed: {}", o.url, e.what());
    }
    connected.Set(0);
    if (stop.load()) break;
    failures = reached_ack ? 1 : failures + 1;
    const auto delay = backoff.delay(failures);
    spdlog::info("v3: reconnecting in {} ms", delay.count());
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stop.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace anipipe::ingest
