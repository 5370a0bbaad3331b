#include "http_server.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client_address.hpp"
#include "edge_metrics.hpp"
#include "ws_session.hpp"

namespace anipipe::edge {

namespace {

HttpRequest view_of(const http::request<http::string_body>& req, const std::string& peer, const TrustedProxies& proxies,
                    bool with_headers = false) {
  auto field = [&](auto name) {
    auto it = req.find(name);
    return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
  };
  HttpRequest r;
  r.method = std::string_view(req.method_string().data(), req.method_string().size());
  r.target = std::string_view(req.target().data(), req.target().size());
  r.body = req.body();
  r.authorization = field(http::field::authorization);
  r.if_none_match = field(http::field::if_none_match);
  r.origin = field(http::field::origin);
  r.content_type = field(http::field::content_type);
  r.idempotency_key = field("Idempotency-Key");
  r.client_ip = proxies.client(peer, field("X-Forwarded-For"), field(http::field::forwarded));
  if (with_headers)
    for (const auto name : kForwardedRequestHeaders)
      if (const auto value = field(beast::string_view(name.data(), name.size())); !value.empty()) r.forwarded.emplace_back(name, value);
  return r;
}

http::response<http::string_body> to_beast(HttpResponse r, unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "anipipe-edge");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) {
    // Set-Cookie is the one header that cannot be folded into one line (RFC 6265 section 3): each stays.
    if (beast::iequals(k, "set-cookie")) res.insert(k, v);
    else res.set(k, v);
  }
  res.keep_alive(keep_alive);
  if (r.status == 204 || r.status == 304) {
    res.prepare_payload();
    return res;
  }
  const auto size = r.body.size();
  if (!head) res.body() = std::move(r.body);
  res.prepare_payload();
  if (head) res.content_length(r.head_length.value_or(size));
  return res;
}

// Open connections, in total and per peer address. A connection holds its slot (the shared
// pointer) for its whole life, over the upgrade to a WebSocket too.
class ConnectionLimits {
public:
  ConnectionLimits(std::size_t total, std::size_t per_address) : total_max_(total), per_address_max_(per_address) {}
  using Slot = std::shared_ptr<void>;
  /// Null when a limit is reached. exempt: no per-address limit (a trusted proxy speaks for many).
  Slot admit(const std::string& address, bool exempt) {
    std::lock_guard lock(mutex_);
    auto& mine = per_address_[address];
    if (total_ >= total_max_ || (!exempt && mine >= per_address_max_)) {
      if (mine == 0) per_address_.erase(address);
      return nullptr;
    }
    ++mine;
    ++total_;
    // Not null (a null shared_ptr reads as "refused"); the deleter gives the slot back.
    return Slot(static_cast<void*>(this), [this, address](void*) {
      std::lock_guard lock(mutex_);
      --total_;
      if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    });
  }
  std::size_t open() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

private:
  const std::size_t total_max_, per_address_max_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
  HttpSession(tcp::socket&& socket, std::string peer, ConnectionLimits::Slot slot, const ServerSettings& settings, Api& api, LiveHub& hub,
              asio::thread_pool& blocking, const TrustedProxies& proxies)
      : stream_(std::move(socket)), settings_(settings), api_(api), hub_(hub), blocking_(blocking), proxies_(proxies),
        peer_(std::move(peer)), slot_(std::move(slot)) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void start() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::read, shared_from_this())); }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(settings_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
    stream_.expires_after(settings_.request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit)
      return refuse(Api::error(413, "payload_too_large", "the body exceeds " + std::to_string(settings_.max_body_bytes) + " bytes"));
    if (ec == http::error::header_limit)
      return refuse(Api::error(431, "headers_too_large", "the headers exceed " + std::to_string(settings_.max_header_bytes) + " bytes"));
    if (ec == beast::error::timeout) return close();
    if (ec) {
      // Not HTTP at all (or broken off mid-request): say so if the socket still listens.
      if (ec.category() == beast::error_code(http::error::bad_target).category())
        return refuse(Api::error(400, "bad_request", "malformed HTTP request: " + ec.message()));
      return close();
    }
    // RFC 9112 §6.3: a request body is framed by Transfer-Encoding only when its final coding is
    // chunked, and by nothing else when one is present. Any other Transfer-Encoding (chunked,
    // identity; xchunked; gzip), or one beside a Content-Length, leaves the body's extent to
    // guesswork - the bytes after it could be read as a second request (smuggling behind a
    // proxy) - so it is refused and the connection closed.
    started_ = std::chrono::steady_clock::now();
    const bool chunked = parser_->chunked();
    request_ = parser_->release();
    if (request_.find(http::field::transfer_encoding) != request_.end() &&
        (!chunked || request_.find(http::field::content_length) != request_.end() || request_.version() < 11))
      return refuse(Api::error(400, "bad_request",
                               "Transfer-Encoding must end in chunked, without Content-Length, on HTTP/1.1 (RFC 9112 section 6.3)"));
    stream_.expires_never();

    if (websocket::is_upgrade(request_)) {
      const auto target = std::string_view(request_.target().data(), request_.target().size());
      if (target.substr(0, target.find('?')) != settings_.ws_path)
        return refuse(Api::error(404, "not_found", "WebSocket connections go to " + settings_.ws_path));
      if (api_.websocket_user_may_block()) {
        // The back end checks the token: a slow one must not hold an I/O thread.
        asio::post(blocking_, [self = shared_from_this()] {
          auto checked = self->api_.websocket_user(view_of(self->request_, self->peer_, self->proxies_));
          asio::post(self->stream_.get_executor(), [self, checked = std::move(checked)]() mutable { self->upgrade(std::move(checked)); });
        });
        return;
      }
      return upgrade(api_.websocket_user(view_of(request_, peer_, proxies_)));
    }
    run(api_.dispatch(view_of(request_, peer_, proxies_, api_.forwards_headers()), true));
  }

  /// Api::dispatch's decision carried out: the answer written, the legacy asked from here (no thread
  /// waits on it), or the request dispatched again on the blocking pool and its outcome run here.
  void run(Dispatch d) {
    if (auto* answer = std::get_if<HttpResponse>(&d)) return respond(std::move(*answer));
    if (const auto* legacy = std::get_if<ToLegacy>(&d))
      return api_.proxy(stream_.get_executor(), view_of(request_, peer_, proxies_, true), *legacy,
                        [self = shared_from_this()](HttpResponse r) { self->respond(std::move(r)); });
    asio::post(blocking_, [self = shared_from_this()] {
      auto outcome = self->api_.dispatch(view_of(self->request_, self->peer_, self->proxies_, self->api_.forwards_headers()), false);
      asio::post(self->stream_.get_executor(), [self, outcome = std::move(outcome)]() mutable { self->run(std::move(outcome)); });
    });
  }

  void upgrade(std::pair<std::optional<std::string>, std::optional<HttpResponse>> checked) {
    if (checked.second) return refuse(std::move(*checked.second));
    start_websocket_session(stream_.release_socket(), request_, settings_, hub_, std::move(checked.first), std::move(slot_),
                            api_.metrics());
  }

  void respond(HttpResponse r) {
    if (auto* m = api_.metrics()) {
      const auto target = std::string_view(request_.target().data(), request_.target().size());
      m->request(EdgeMetrics::route_of(target.substr(0, target.find('?'))),
                 std::string_view(request_.method_string().data(), request_.method_string().size()), r.status,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }
    const bool head = request_.method() == http::verb::head;
    response_ = std::make_shared<http::response<http::string_body>>(
        to_beast(std::move(r), request_.version(), request_.keep_alive(), head));
    // A client that does not read (a full receive window) is cut off at the deadline instead of
    // holding its connection and the response's buffers.
    stream_.expires_after(settings_.write_timeout);
    http::async_write(stream_, *response_, beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), response_->keep_alive()));
  }

  void refuse(HttpResponse r) {
    if (auto* m = api_.metrics()) m->request("other", "-", r.status, 0);
    response_ = std::make_shared<http::response<http::string_body>>(to_beast(std::move(r), 11, false, false));
    stream_.expires_after(settings_.write_timeout);
    http::async_write(stream_, *response_, beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), false));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return;
    if (!keep_alive) return close();
    response_.reset();
    read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  const ServerSettings& settings_;
  Api& api_;
  LiveHub& hub_;
  asio::thread_pool& blocking_;
  const TrustedProxies& proxies_;
  std::string peer_;
  ConnectionLimits::Slot slot_;
  std::chrono::steady_clock::time_point started_{};
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  std::shared_ptr<http::response<http::string_body>> response_;
};

}  // namespace

struct HttpServer::Impl {
  ServerSettings settings;
  Api& api;
  LiveHub& hub;
  TrustedProxies proxies;
  ConnectionLimits limits;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::thread_pool blocking;
  std::vector<std::thread> threads;

  Impl(ServerSettings s, Api& a, LiveHub& h)
      : settings(std::move(s)), api(a), hub(h), proxies(settings.trusted_proxies),
        limits(settings.max_connections, settings.max_connections_per_ip), ioc(static_cast<int>(settings.threads)),
        blocking(settings.blocking_threads) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket) {
    beast::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) return;
    auto peer = ep.address().to_string();
    auto slot = limits.admit(peer, proxies.contains(peer));
    if (!slot) {
      // Over a limit: one short answer, written without waiting (a full socket just loses it), and closed.
      api.count_refused_connection();
      static constexpr std::string_view kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\nConnection: close\r\n"
          "Content-Length: 68\r\n\r\n{\"error\":\"too_many_connections\",\"detail\":\"connection limit reached\"}";
      socket.non_blocking(true, ec);
      socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    std::make_shared<HttpSession>(std::move(socket), std::move(peer), std::move(slot), settings, api, hub, blocking, proxies)->start();
  }
};

HttpServer::HttpServer(ServerSettings settings, Api& api, LiveHub& hub) {
  if (settings.threads == 0) settings.threads = std::max(1u, std::thread::hardware_concurrency());
  impl_ = std::make_unique<Impl>(std::move(settings), api, hub);
}

HttpServer::~HttpServer() { stop(); }

unsigned short HttpServer::start() {
  auto& s = impl_->settings;
  const tcp::endpoint endpoint{asio::ip::make_address(s.address), s.port};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
  for (std::size_t i = 0; i < s.threads; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::stop() {
  if (!impl_ || impl_->threads.empty()) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->blocking.join();
  impl_->api.close_legacy_connections();
}

}  // namespace anipipe::edge
