#include <doctest/doctest.h>

#include "http/client.hpp"

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
