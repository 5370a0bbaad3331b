#include <doctest/doctest.h>

#include "client_address.hpp"

using anipipe::edge::TrustedProxies;

TEST_CASE("without trusted proxies every client is its TCP peer, whatever it says") {
  TrustedProxies none;
  CHECK(none.client("203.0.113.9", "1.2.3.4", "") == "203.0.113.9");
  CHECK(none.client("203.0.113.9", "", "for=1.2.3.4") == "203.0.113.9");
}

TEST_CASE("a trusted proxy is believed about the client: the right-most untrusted address") {
  TrustedProxies proxies("10.0.0.0/8, 192.168.1.7,::1");
  CHECK(proxies.contains("10.1.2.3"));
  CHECK(proxies.contains("192.168.1.7"));
  CHECK_FALSE(proxies.contains("192.168.1.8"));
  CHECK(proxies.contains("::1"));
  CHECK(proxies.contains("::ffff:10.9.9.9"));  // v4-mapped
  CHECK(proxies.client("10.0.0.5", "198.51.100.1", "") == "198.51.100.1");
  // A client that sends its own X-Forwarded-For: the proxy appends the real peer, which is what counts.
  CHECK(proxies.client("10.0.0.5", "1.1.1.1, 198.51.100.1", "") == "198.51.100.1");
  // Two proxies in a row.
  CHECK(proxies.client("10.0.0.5", "198.51.100.1, 10.0.0.9", "") == "198.51.100.1");
  // Forwarded (RFC 7239) wins over X-Forwarded-For, quoted IPv6 with a port too.
  CHECK(proxies.client("10.0.0.5", "1.1.1.1", R"(for=198.51.100.2;proto=https, for="[2001:db8::1]:4711")") == "2001:db8::1");
  CHECK(proxies.client("10.0.0.5", "", "for=198.51.100.2:8080") == "198.51.100.2");
  // Nothing forwarded, only proxies, or garbage: the peer itself.
  CHECK(proxies.client("10.0.0.5", "", "") == "10.0.0.5");
  CHECK(proxies.client("10.0.0.5", "10.0.0.6", "") == "10.0.0.5");
  CHECK(proxies.client("10.0.0.5", "not-an-address", "") == "10.0.0.5");
  // An untrusted peer's headers are ignored.
  CHECK(proxies.client("198.51.100.3", "10.0.0.1", "") == "198.51.100.3");
}

TEST_CASE("a bad --trusted-proxies entry is a start-up error") {
  CHECK_THROWS_WITH(TrustedProxies("10.0.0.0/33"), doctest::Contains("--trusted-proxies"));
  CHECK_THROWS_WITH(TrustedProxies("proxy.example"), doctest::Contains("--trusted-proxies"));
}
