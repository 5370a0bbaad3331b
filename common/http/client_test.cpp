#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "http/client.hpp"

using anipipe::http::Client;
using anipipe::http::ClientOptions;
using anipipe::http::HttpError;
using anipipe::http::parse_retry_after;
using anipipe::http::Url;
using namespace std::chrono_literals;

TEST_CASE("base URLs: scheme, host, default and explicit ports, base path") {
  auto a = Url::parse("https://anilibria.top/api/v1/");
  CHECK(a.tls);
  CHECK(a.host == "anilibria.top");
  CHECK(a.port == "443");
  CHECK(a.path == "/api/v1");
  auto b = Url::parse("http://127.0.0.1:18080");
  CHECK_FALSE(b.tls);
  CHECK(b.port == "18080");
  CHECK(b.path.empty());
  CHECK_THROWS_AS(Url::parse("ftp://x"), std::invalid_argument);
  CHECK_THROWS_AS(Url::parse("http:///path"), std::invalid_argument);
}

TEST_CASE("Retry-After as seconds or an HTTP date") {
  CHECK(parse_retry_after("7") == std::chrono::milliseconds(7000));
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == std::chrono::milliseconds(30000));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == std::chrono::milliseconds(0));
  CHECK_FALSE(parse_retry_after("soon"));
  CHECK_FALSE(parse_retry_after(""));
}

namespace {

/// A one-thread HTTP server on 127.0.0.1 for the client's own tests: answers each request with
/// `answer` (a whole HTTP/1.1 response) and keeps what it received.
class LocalServer {
public:
  explicit LocalServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LocalServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string in;
      // Headers, then as much body as Content-Length says (the tests send small ones).
      while (in.find("\r\n\r\n") == std::string::npos || in.size() < in.find("\r\n\r\n") + 4 + content_length(in)) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        received_ += in;
      }
      ::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  static std::size_t content_length(const std::string& in) {
    const auto at = in.find("Content-Length: ");
    return at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
  }

  std::string answer_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string received_;
};

}  // namespace

TEST_CASE("send: any method, headers and body as given; a 5xx is returned, not retried, not thrown") {
  LocalServer server("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nX-Legacy: yes\r\nContent-Length: 4\r\n"
                     "Connection: close\r\n\r\noops");
  ClientOptions options;
  options.max_retries = 3;
  options.backoff_initial = 1ms;
  Client client(server.url(), options);
  const auto r = client.send({.method = "PATCH", .target = "/things/7?x=1", .body = R"({"a":1})", .headers = {{"X-Request-Id", "r-1"}}});
  CHECK(r.status == 500);
  CHECK(r.body == "oops");
  CHECK(r.headers.at("x-legacy") == "yes");
  CHECK(r.attempts == 1);
  const auto got = server.received();
  CHECK(got.starts_with("PATCH /things/7?x=1 HTTP/1.1\r\n"));
  CHECK(got.find("X-Request-Id: r-1\r\n") != std::string::npos);
  CHECK(got.ends_with(R"({"a":1})"));
  CHECK(got.find("PATCH", 5) == std::string::npos);  // once
}

TEST_CASE("send: a refused connection throws for a POST after one attempt, and a GET is retried") {
  std::string url;
  {
    LocalServer gone("");
    url = gone.url();
  }
  ClientOptions options;
  options.max_retries = 2;
  options.backoff_initial = 1ms;
  options.backoff_max = 2ms;
  Client client(url, options);
  try {
    client.send({"POST", "/x", "{}", {}});
    FAIL("no exception");
  } catch (const HttpError& e) {
    CHECK(e.kind == HttpError::Kind::transport);
  }
  try {
    client.send({"GET", "/x", {}, {}});
    FAIL("no exception");
  } catch (const HttpError& e) {
    CHECK(std::string(e.what()).find("GET 127.0.0.1/x failed") != std::string::npos);
  }
}
