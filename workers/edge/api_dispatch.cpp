// How the server runs a request in front of the legacy back end without an I/O thread waiting:
// the side is chosen on the I/O thread when the flag cache answers; a flag only Redis can give
// (a cache miss, once per user and --flag-cache-ms) sends the request to the blocking pool, where
// the read may wait up to the Redis timeout, and from there on as on an I/O thread. Chosen over an
// asynchronous Redis client: hiredis is used synchronously everywhere else, and with the cache
// answering nearly every read the hop costs next to nothing. The legacy's side is then asked with
// AsyncProxy on the connection's executor: no thread waits on the legacy, however slow it is.
#include <boost/asio/post.hpp>

#include "http_api.hpp"
#include "migration.hpp"

namespace anipipe::edge {

Dispatch Api::dispatch(const HttpRequest& request, bool on_io_thread) {
  const auto path = request.target.substr(0, request.target.find('?'));
  const bool in_front = migration_ && path.starts_with('/') && request.method != "OPTIONS" && !Migration::edge_only(path);
  if (!in_front) {
    if (on_io_thread && may_block(request)) return RunBlocking{};
    return handle(request);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto side = migration_->side(request, path, !on_io_thread);
  if (!side || (*side == Migration::Side::edge && on_io_thread && may_block(request))) return RunBlocking{};
  ++requests_;
  if (auto limited = rate_limit(request, service_token(request))) return with_cors(std::move(*limited), request);
  if (*side == Migration::Side::legacy) return ToLegacy{started};
  auto r = serve(request, std::nullopt);
  migration_->served(request, path, Migration::Side::edge, r, started);
  return with_cors(std::move(r), request);
}

void Api::proxy(const boost::asio::any_io_executor& executor, const HttpRequest& request, ToLegacy ticket,
                std::function<void(HttpResponse)> done) {
  migration_->async_legacy().forward(executor, request, [this, request, ticket, done = std::move(done)](HttpResponse r) {
    migration_->served(request, request.target.substr(0, request.target.find('?')), Migration::Side::legacy, r, ticket.started);
    done(with_cors(std::move(r), request));
  });
}

void Api::close_legacy_connections() {
  if (migration_) migration_->async_legacy().close_idle();
}

}  // namespace anipipe::edge
