#include "legacy_proxy.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace anipipe::edge {

namespace {

http::ClientOptions legacy_options(const LegacySettings& s, std::shared_ptr<http::CircuitBreaker> breaker) {
  http::ClientOptions o;
  o.connect_timeout = std::min(s.timeout, std::chrono::milliseconds(2'000));
  o.request_timeout = s.timeout;
  o.max_retries = 1;  // reads only (Client::send): one quick second try on a broken connection
  o.backoff_initial = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(50);
  o.shared_breaker = std::move(breaker);
  o.user_agent = "anipipe-edge";
  return o;
}

}  // namespace

LegacyProxy::LegacyProxy(const LegacySettings& settings, std::shared_ptr<http::CircuitBreaker> breaker, prometheus::Registry* registry)
    : breaker_(std::move(breaker)), clients_([url = settings.url, options = legacy_options(settings, breaker_), registry] {
        return std::make_unique<http::Client>(url, options, registry, "legacy");
      }) {
  http::Url::parse(settings.url);  // a bad URL is a startup error
}

HttpResponse LegacyProxy::forward(const HttpRequest& request) {
  http::Request out{request.method, request.target, request.body, {}};
  for (const auto& [name, value] : request.forwarded) out.headers[std::string(name)] = std::string(value);
  out.headers["X-Forwarded-For"] = request.client_ip;
  out.headers.try_emplace("X-Forwarded-Proto", "http");
  try {
    auto client = clients_.lease();
    auto answer = client->send(out);
    HttpResponse r;
    r.status = answer.status;
    r.body = std::move(answer.body);
    const auto type = answer.headers.find("content-type");
    r.content_type = type == answer.headers.end() ? std::string() : type->second;
    for (const auto name : kReturnedHeaders)
      if (auto it = answer.headers.find(std::string(name)); it != answer.headers.end()) r.headers.emplace_back(name, it->second);
    return r;
  } catch (const http::HttpError& e) {
    spdlog::debug("legacy: {} {}: {}", request.method, request.target, e.what());
    if (e.kind == http::HttpError::Kind::circuit_open) {
      auto r = Api::error(503, "legacy_unavailable", "the legacy back end is failing; try again shortly");
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    return Api::error(502, "bad_gateway", "the legacy back end did not answer");
  }
}

}  // namespace anipipe::edge
