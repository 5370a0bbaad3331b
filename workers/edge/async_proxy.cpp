#include "async_proxy.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "http/client.hpp"
#include "legacy_proxy.hpp"

namespace anipipe::edge {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxBodyBytes = 64u << 20;

bool idempotent(bhttp::verb method) {
  return method == bhttp::verb::get || method == bhttp::verb::head || method == bhttp::verb::put || method == bhttp::verb::delete_ ||
         method == bhttp::verb::options;
}

/// What a connection the legacy had closed while it sat idle looks like on the next use.
bool stale(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

/// An idle connection the legacy closed (its keep-alive timeout) reads as end of stream; one with
/// bytes waiting is out of step. Either is dropped before use: a POST is not sent on it to fail.
bool closed_by_peer(boost::beast::tcp_stream& stream) {
  char c;
  const auto n = ::recv(stream.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

HttpResponse unavailable(std::string_view code, std::string_view detail, std::chrono::milliseconds retry_in) {
  auto r = Api::error(503, code, detail);
  r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, (retry_in.count() + 999) / 1000)));
  return r;
}

}  // namespace

/// One proxied request, from lease (or connect) to answer; kept alive by its pending operation.
struct AsyncProxy::Exchange : std::enable_shared_from_this<Exchange> {
  enum class Failure { transport, timeout };

  Exchange(AsyncProxy& p, asio::any_io_executor ex, Done d) : proxy(p), executor(std::move(ex)), done(std::move(d)) {}
  ~Exchange() { --proxy.in_flight_; }

  void start() {
    stream = proxy.lease();
    reused = stream != nullptr;
    if (reused) return send();
    connect();
  }

  /// A step's completion on the request's executor (the connection's strand), the exchange kept alive.
  auto bound(void (Exchange::*step)(beast::error_code)) {
    return asio::bind_executor(executor, [self = shared_from_this(), step](beast::error_code ec, auto&&...) { (self.get()->*step)(ec); });
  }

  void connect() {
    stream = std::make_unique<Stream>(executor);
    stream->expires_after(std::min<Clock::duration>(proxy.connect_timeout_, deadline - Clock::now()));
    stream->async_connect(proxy.endpoints_, bound(&Exchange::on_connect));
  }
  void on_connect(beast::error_code ec) {
    if (ec) return fail(ec == beast::error::timeout ? Failure::timeout : Failure::transport, ec);
    send();
  }
  void send() {
    stream->expires_at(deadline);
    bhttp::async_write(*stream, out, bound(&Exchange::on_write));
  }
  void on_write(beast::error_code ec) {
    if (ec) return broken(ec);
    parser.emplace();
    parser->body_limit(kMaxBodyBytes);
    if (out.method() == bhttp::verb::head) parser->skip(true);  // a HEAD's answer has no body, whatever its Content-Length
    bhttp::async_read(*stream, buffer, *parser, bound(&Exchange::on_read));
  }
  void on_read(beast::error_code ec) {
    if (ec) return broken(ec);
    answer();
  }

  void broken(beast::error_code ec) {
    if (reused && !retried && idempotent(out.method()) && stale(ec)) {
      retried = true;
      reused = false;
      buffer.clear();
      spdlog::debug("legacy: a kept-alive connection was closed ({}); {} {} again on a new one", ec.message(), out.method_string(),
                    out.target());
      return connect();
    }
    fail(ec == beast::error::timeout ? Failure::timeout : Failure::transport, ec);
  }

  void fail(Failure failure, beast::error_code ec) {
    spdlog::debug("legacy: {} {}: {}", out.method_string(), out.target(), ec.message());
    proxy.breaker_->on_failure();
    proxy.count("transport", seconds());
    stream.reset();
    finish(failure == Failure::timeout ? Api::error(504, "gateway_timeout", "the legacy back end did not answer in time")
                                       : Api::error(502, "bad_gateway", "the legacy back end did not answer"));
  }

  void answer() {
    auto& res = parser->get();
    HttpResponse r;
    r.status = static_cast<int>(res.result_int());
    r.body = std::move(res.body());
    const auto type = res.find(bhttp::field::content_type);
    r.content_type = type == res.end() ? std::string() : std::string(type->value());
    for (const auto& f : res) {
      const auto name = f.name_string();
      if (std::any_of(kReturnedHeaders.begin(), kReturnedHeaders.end(), [&](auto h) { return beast::iequals(h, name); }))
        r.headers.emplace_back(std::string(name), std::string(f.value()));
    }
    if (out.method() == bhttp::verb::head)
      if (const auto length = parser->content_length()) r.head_length = static_cast<std::size_t>(*length);
    // A 502/503/504 says the legacy itself is in trouble; any other status is its answer.
    if (r.status == 502 || r.status == 503 || r.status == 504) proxy.breaker_->on_failure();
    else proxy.breaker_->on_success();
    proxy.count(r.status >= 500 ? "5xx" : r.status >= 400 ? "4xx" : "2xx", seconds());
    if (res.keep_alive() && parser->is_done()) proxy.give_back(std::move(stream));
    stream.reset();
    finish(std::move(r));
  }

  void finish(HttpResponse r) {
    auto d = std::move(done);
    d(std::move(r));
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - started).count(); }

  AsyncProxy& proxy;
  asio::any_io_executor executor;
  Done done;
  bhttp::request<bhttp::string_body> out;
  std::unique_ptr<Stream> stream;
  bool reused = false, retried = false;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  Clock::time_point started = Clock::now(), deadline;
};

AsyncProxy::AsyncProxy(const LegacySettings& settings, std::shared_ptr<anipipe::http::CircuitBreaker> breaker,
                       prometheus::Registry* registry)
    : settings_(settings), connect_timeout_(std::min(settings.timeout, std::chrono::milliseconds(2'000))), breaker_(std::move(breaker)) {
  const auto url = anipipe::http::Url::parse(settings.url);
  if (url.tls) throw std::invalid_argument("--legacy-url: the edge proxies to a legacy back end over plain http:// only");
  host_ = url.host + ":" + url.port;
  base_path_ = url.path;
  asio::io_context ioc;
  endpoints_ = asio::ip::tcp::resolver(ioc).resolve(url.host, url.port);
  if (!registry) return;
  // The same families as http::Client's (prometheus-cpp merges a family registered twice).
  requests_ = &prometheus::BuildCounter()
                   .Name("anipipe_http_requests_total")
                   .Help("HTTP attempts by client and outcome (2xx, 4xx, 5xx, 429, transport, circuit_open)")
                   .Register(*registry);
  latency_ = &prometheus::BuildHistogram()
                  .Name("anipipe_http_request_seconds")
                  .Help("HTTP attempt latency")
                  .Register(*registry)
                  .Add({{"client", "legacy"}},
                       prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

AsyncProxy::~AsyncProxy() = default;

void AsyncProxy::forward(const asio::any_io_executor& executor, const HttpRequest& request, Done done) {
  if (in_flight_.fetch_add(1) >= settings_.max_in_flight) {
    --in_flight_;
    count("busy", 0);
    return asio::post(executor, [done = std::move(done)] {
      done(unavailable("legacy_busy", "too many requests are waiting on the legacy back end; try again shortly", std::chrono::seconds(1)));
    });
  }
  auto x = std::make_shared<Exchange>(*this, executor, std::move(done));  // from here the exchange gives the slot back
  if (!breaker_->allow()) {
    count("circuit_open", 0);
    return asio::post(executor, [x, wait = breaker_->retry_in()] {
      x->finish(unavailable("legacy_unavailable", "the legacy back end is failing; try again shortly", wait));
    });
  }
  auto& out = x->out;
  out.method_string(request.method);
  out.target(base_path_ + std::string(request.target));
  out.version(11);
  out.set(bhttp::field::host, host_);
  out.set(bhttp::field::user_agent, "anipipe-edge");
  for (const auto& [name, value] : request.forwarded) out.set(name, value);
  out.set("X-Forwarded-For", request.client_ip);
  if (out.find("X-Forwarded-Proto") == out.end()) out.set("X-Forwarded-Proto", "http");
  out.keep_alive(true);
  if (!request.body.empty() || out.method() == bhttp::verb::post || out.method() == bhttp::verb::put) {
    out.body() = request.body;
    out.prepare_payload();
  }
  x->deadline = x->started + settings_.timeout;
  x->start();
}

std::unique_ptr<AsyncProxy::Stream> AsyncProxy::lease() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    auto s = std::move(idle_.back());
    idle_.pop_back();
    if (!closed_by_peer(*s)) return s;
  }
  return nullptr;
}

void AsyncProxy::give_back(std::unique_ptr<Stream> stream) {
  stream->expires_never();
  std::lock_guard lock(mutex_);
  // Beyond the bound the connection is closed: a burst does not leave hundreds open to the legacy.
  if (idle_.size() < settings_.max_idle) idle_.push_back(std::move(stream));
}

void AsyncProxy::close_idle() {
  std::lock_guard lock(mutex_);
  idle_.clear();
}

void AsyncProxy::count(const char* outcome, double seconds) {
  if (!requests_) return;
  requests_->Add({{"client", "legacy"}, {"outcome", outcome}}).Increment();
  if (seconds > 0) latency_->Observe(seconds);
}

}  // namespace anipipe::edge
