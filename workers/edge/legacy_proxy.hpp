#pragma once
// The legacy Node.js back end behind the edge (--legacy-url): a request the edge is not chosen to
// serve goes to it unchanged - method, target with its query, the headers that matter
// (kForwardedRequestHeaders, plus X-Forwarded-For/-Proto), body - and its answer comes back as it
// was, whatever the status, with the headers a client needs (Content-Type, ETag, Cache-Control,
// Set-Cookie, Location, Retry-After). Keep-alive clients, one per thread that is proxying, share
// one circuit breaker; a legacy that does not answer is a 502, an open breaker a 503, both in the
// edge's error shape. Writes are never retried. Synchronous: the shadow comparison's, on its own
// threads; the requests clients wait for go through AsyncProxy (async_proxy.hpp) on the I/O threads.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "http/client.hpp"
#include "http_api.hpp"
#include "idle_pool.hpp"
#include "migration_settings.hpp"

namespace prometheus {
class Registry;
}

namespace anipipe::edge {

/// Response headers of the legacy's a client gets back (besides Content-Type); every Set-Cookie.
inline constexpr std::array<std::string_view, 6> kReturnedHeaders{"etag", "cache-control", "set-cookie", "location", "retry-after", "vary"};

class LegacyProxy {
public:
  LegacyProxy(const LegacySettings& settings, std::shared_ptr<http::CircuitBreaker> breaker, prometheus::Registry* registry);
  HttpResponse forward(const HttpRequest& request);

private:
  std::shared_ptr<http::CircuitBreaker> breaker_;
  IdlePool<http::Client> clients_;
};

}  // namespace anipipe::edge
