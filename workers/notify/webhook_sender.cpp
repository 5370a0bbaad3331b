#include "webhook_sender.hpp"

#include "json/json_writer.hpp"
#include "util/hmac.hpp"
#include "util/jwt.hpp"

namespace anipipe::notify {

namespace {
std::string excerpt(std::string_view body) { return std::string(body.substr(0, 200)) + (body.size() > 200 ? "…" : ""); }
}  // namespace

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  std::string message = std::to_string(unix_seconds);
  message += '.';
  message += body;
  return "sha256=" + util::hmac_sha256_hex(secret, message);
}

std::optional<std::string> webhook_authorization(const WebhookAuth& auth, std::int64_t unix_seconds) {
  if (!auth.token.empty()) return "Bearer " + auth.token;
  if (auth.jwt_secret.empty()) return std::nullopt;
  std::string claims = R"({"iss":)";
  json::append_quoted(claims, auth.jwt_issuer);
  claims += R"(,"sub":)";
  json::append_quoted(claims, auth.jwt_issuer);
  claims += R"(,"service":)";
  json::append_quoted(claims, auth.jwt_issuer);
  claims += R"(,"permissions":["notify"],"iat":)" + std::to_string(unix_seconds) + R"(,"exp":)" +
            std::to_string(unix_seconds + auth.jwt_ttl.count()) + "}";
  return "Bearer " + util::sign_hs256(claims, auth.jwt_secret);
}

WebhookResult classify_webhook_status(int status, std::string_view body) {
  const std::string what = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + excerpt(body));
  if (status >= 200 && status < 300) return {WebhookResult::Kind::delivered, {}};
  if (status == 401 || status == 403) return {WebhookResult::Kind::unauthorized, "the webhook refused notify's credentials (" + what + ")"};
  if (status == 408 || status == 429 || status == 502 || status == 503 || status == 504)
    return {WebhookResult::Kind::down, "the webhook is unavailable (" + what + ")"};
  if (status >= 500) return {WebhookResult::Kind::failed, "the webhook failed (" + what + ")"};
  return {WebhookResult::Kind::rejected, "the webhook refused the call (" + what + ")"};
}

WebhookSender::WebhookSender(WebhookSettings settings, prometheus::Registry* metrics)
    : settings_(std::move(settings)),
      // The client puts its base path before every target: the URL's own path is the whole target.
      target_(http::Url::parse(settings_.url).path.empty() ? "/" : ""),
      pool_(settings_.url, settings_.client, settings_.concurrency, metrics, "webhook") {}

std::vector<WebhookResult> WebhookSender::send(const std::vector<WebhookCall>& calls, const std::atomic<bool>& stop) {
  std::vector<WebhookResult> out(calls.size());
  pool_.run(calls.size(), [&](http::Client& client, std::size_t i) {
    if (stop.load()) {
      out[i] = {WebhookResult::Kind::down, "shutting down"};
      return;
    }
    const auto& call = calls[i];
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::map<std::string, std::string> headers{
        {"X-Anipipe-Timestamp", std::to_string(now)},
        {"X-Anipipe-Signature", webhook_signature(settings_.secret, now, call.body)},
        {"Idempotency-Key", call.event_id},
    };
    if (auto authorization = webhook_authorization(settings_.auth, now)) headers.emplace("Authorization", std::move(*authorization));
    try {
      const auto r = client.post(target_, call.body, "application/json", headers, &stop);
      out[i] = classify_webhook_status(r.status, r.body);
    } catch (const http::HttpError& e) {
      if (e.kind == http::HttpError::Kind::status) out[i] = classify_webhook_status(e.status, e.what());
      else out[i] = {WebhookResult::Kind::down, std::string("the webhook is unreachable: ") + e.what()};
    } catch (const std::exception& e) {
      out[i] = {WebhookResult::Kind::down, std::string("the webhook is unreachable: ") + e.what()};
    }
  });
  return out;
}

}  // namespace anipipe::notify
