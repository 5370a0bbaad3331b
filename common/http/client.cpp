#include "http/client.hpp"

#include <openssl/ssl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <ctime>
#include <thread>

#include "util/backoff.hpp"

namespace anipipe::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Url Url::parse(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.starts_with("http://")) rest = url.substr(7);
  else if (url.starts_with("https://")) {
    rest = url.substr(8);
    u.tls = true;
  } else throw std::invalid_argument("URL must start with http:// or https://: " + std::string(url));
  const auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  const auto colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    u.port = std::string(hostport.substr(colon + 1));
  } else {
    u.host = std::string(hostport);
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty()) throw std::invalid_argument("URL without a host: " + std::string(url));
  return u;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  std::tm tm{};
  const std::string s(value);
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  return at > now ? std::chrono::duration_cast<std::chrono::milliseconds>(at - now) : std::chrono::milliseconds(0);
}

struct Client::Impl {
  asio::io_context ioc;
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Counter>* retries = nullptr;
  prometheus::Histogram* latency = nullptr;
  prometheus::Gauge* breaker_open = nullptr;
  std::string name;

  bool connected() const { return plain || secure; }
  void drop() {
    beast::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    plain.reset();
    secure.reset();
    buffer.clear();
  }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }

  /// Runs queued async work to completion; the stream's expiry bounds it.
  void run() {
    ioc.restart();
    ioc.run();
  }

  void connect(const Url& base, std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(base.host, base.port, ec);
    if (ec) throw beast::system_error(ec);
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) throw beast::system_error(ec);
    stream->socket().set_option(tcp::no_delay(true));
    if (!base.tls) {
      plain = std::move(stream);
      return;
    }
    secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), tls_ctx);
    if (!SSL_set_tlsext_host_name(secure->native_handle(), base.host.c_str()))
      throw std::runtime_error("TLS: cannot set SNI for " + base.host);
    secure->set_verify_callback(asio::ssl::host_name_verification(base.host));
    beast::get_lowest_layer(*secure).expires_after(timeout);
    secure->async_handshake(asio::ssl::stream_base::client, [&ec](beast::error_code e) { ec = e; });
    run();
    if (ec) throw beast::system_error(ec);
  }

  /// A kept-alive connection the server has closed (an idle timeout): readable with nothing to read.
  bool peer_closed() {
    auto& socket = lowest().socket();
    beast::error_code ec;
    if (socket.available(ec) > 0 || ec) return static_cast<bool>(ec);
    char byte = 0;
    socket.non_blocking(true, ec);
    const auto n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    beast::error_code ignored;
    socket.non_blocking(false, ignored);
    return ec != asio::error::would_block && (ec || n == 0);
  }

  Response round_trip(const Url& base, const ClientOptions& options, const Request& r, const std::string& target, bool idempotent);

  template <class Stream>
  void exchange(Stream& s, bhttp::request<bhttp::string_body>& req, bhttp::response_parser<bhttp::string_body>& parser,
                beast::error_code& ec) {
    bhttp::async_write(s, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) return;
    bhttp::async_read(s, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
  }
};

Client::Client(const std::string& base_url, ClientOptions options, prometheus::Registry* metrics, std::string name)
    : base_(Url::parse(base_url)), options_(std::move(options)),
      breaker_(options_.shared_breaker ? options_.shared_breaker
                                       : std::make_shared<CircuitBreaker>(options_.breaker_failures, options_.breaker_open_for)),
      impl_(std::make_unique<Impl>()) {
  impl_->tls_ctx.set_default_verify_paths();
  impl_->tls_ctx.set_verify_mode(asio::ssl::verify_peer);
  impl_->name = std::move(name);
  if (metrics) {
    impl_->requests = &prometheus::BuildCounter()
                           .Name("anipipe_http_requests_total")
                           .Help("HTTP attempts by client and outcome (2xx, 4xx, 5xx, 429, transport, circuit_open)")
                           .Register(*metrics);
    impl_->retries = &prometheus::BuildCounter().Name("anipipe_http_retries_total").Help("HTTP retries by client").Register(*metrics);
    impl_->latency = &prometheus::BuildHistogram()
                          .Name("anipipe_http_request_seconds")
                          .Help("HTTP attempt latency")
                          .Register(*metrics)
                          .Add({{"client", impl_->name}},
                               prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    impl_->breaker_open = &prometheus::BuildGauge()
                               .Name("anipipe_http_circuit_open")
                               .Help("1 while the client's circuit breaker is open")
                               .Register(*metrics)
                               .Add({{"client", impl_->name}});
  }
}

Client::~Client() = default;

Response Client::get(std::string_view target, const std::atomic<bool>* stop) { return perform({"GET", target, {}, {}}, false, stop); }

Response Client::post(std::string_view target, std::string_view body, std::string_view content_type,
                      const std::map<std::string, std::string>& headers, const std::atomic<bool>* stop) {
  Request r{.method = "POST", .target = target, .body = body, .headers = headers};
  r.headers["Content-Type"] = std::string(content_type);
  return perform(r, false, stop);
}

Response Client::send(const Request& request, const std::atomic<bool>* stop) { return perform(request, true, stop); }

Response Client::Impl::round_trip(const Url& base, const ClientOptions& options, const Request& r, const std::string& target,
                                  bool idempotent) {
  // A kept-alive connection the server closed meanwhile fails on first use: not an upstream
  // failure. An idempotent request reconnects and goes again once; any other is only sent on a
  // connection that is not known to be closed, and never twice.
  if (connected() && !idempotent && peer_closed()) drop();
  const bool reused = connected();
  for (int pass = 0;; ++pass) {
    if (!connected()) connect(base, options.connect_timeout);
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(r.method), target, 11};
    if (req.method() == bhttp::verb::unknown) req.method_string(r.method);
    req.set(bhttp::field::host, base.host);
    req.set(bhttp::field::user_agent, options.user_agent);
    req.set(bhttp::field::accept, "application/json");
    req.keep_alive(true);
    for (const auto& [k, v] : r.headers) req.set(k, v);
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      req.body() = std::string(r.body);
      req.prepare_payload();
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    if (req.method() == bhttp::verb::head) parser.skip(true);
    beast::error_code ec;
    lowest().expires_after(options.request_timeout);
    if (plain) exchange(*plain, req, parser, ec);
    else exchange(*secure, req, parser, ec);
    if (ec) {
      drop();
      if (reused && idempotent && pass == 0) continue;
      throw beast::system_error(ec);
    }
    auto res = parser.release();
    if (!res.keep_alive()) drop();
    Response out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    return out;
  }
}

Response Client::perform(const Request& request, bool answer_any_status, const std::atomic<bool>* stop) {
  auto count = [this](const char* outcome) {
    if (impl_->requests) impl_->requests->Add({{"client", impl_->name}, {"outcome", outcome}}).Increment();
  };
  const auto& m = request.method;
  const bool idempotent = m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
  const int max_retries = answer_any_status && !idempotent ? 0 : options_.max_retries;
  util::Backoff backoff{options_.backoff_initial, options_.backoff_max, 2.0};
  std::string last_error;
  int last_status = 0;
  HttpError::Kind last_kind = HttpError::Kind::transport;
  const std::string full_target = base_.path + std::string(request.target);

  for (int attempt = 1; attempt <= max_retries + 1; ++attempt) {
    if (stop && stop->load()) break;
    if (!breaker_->allow()) {
      count("circuit_open");
      if (impl_->breaker_open) impl_->breaker_open->Set(1);
      throw HttpError(HttpError::Kind::circuit_open, 0,
                      "circuit open for " + base_.host + " (retry in " + std::to_string(breaker_->retry_in().count()) + " ms)");
    }
    std::optional<std::chrono::milliseconds> retry_after;
    const auto started = std::chrono::steady_clock::now();
    try {
      auto out = impl_->round_trip(base_, options_, request, full_target, idempotent);
      if (impl_->latency) impl_->latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      out.attempts = attempt;
      const bool failed = out.status >= 500 || out.status == 429;
      // For a proxy a 500 is the server's answer; only one saying it is unwell counts against it.
      const bool unwell = answer_any_status ? out.status == 502 || out.status == 503 || out.status == 504 : failed;
      if (unwell) breaker_->on_failure();
      else breaker_->on_success();
      if (impl_->breaker_open) impl_->breaker_open->Set(breaker_->state() == CircuitBreaker::State::closed ? 0 : 1);
      count(out.status == 429 ? "429" : out.status >= 500 ? "5xx" : out.status < 300 ? "2xx" : out.status < 400 ? "3xx" : "4xx");
      if (!failed || answer_any_status) return out;
      last_status = out.status;
      last_kind = HttpError::Kind::status;
      last_error = "HTTP " + std::to_string(out.status);
      if (auto it = out.headers.find("retry-after"); it != out.headers.end()) retry_after = parse_retry_after(it->second);
    } catch (const std::exception& e) {
      impl_->drop();
      count("transport");
      breaker_->on_failure();
      last_kind = HttpError::Kind::transport;
      // A system_error's what() carries Boost's source location; people need the reason.
      const auto* system = dynamic_cast<const boost::system::system_error*>(&e);
      last_error = system ? system->code().message() : e.what();
    }
    if (attempt > max_retries) break;
    auto delay = backoff.delay(attempt);
    if (retry_after) delay = std::min(std::max(delay, *retry_after), options_.backoff_max * 6);
    if (impl_->retries) impl_->retries->Add({{"client", impl_->name}}).Increment();
    spdlog::warn("{} {}{}: {}; retry {} in {} ms", m, base_.host, full_target, last_error, attempt, delay.count());
    const auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until && !(stop && stop->load()))
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
  }
  if (impl_->breaker_open && breaker_->state() != CircuitBreaker::State::closed) impl_->breaker_open->Set(1);
  throw HttpError(last_kind, last_status, std::string(m) + " " + base_.host + full_target + " failed: " + last_error);
}

}  // namespace anipipe::http
