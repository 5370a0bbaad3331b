#include "user_tokens.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "http/circuit_breaker.hpp"
#include "http/client.hpp"
#include "json/json_writer.hpp"
#include "util/jwt.hpp"

namespace anipipe::edge {

namespace {

std::string_view kind_name(UserCheck::Kind k) {
  switch (k) {
    case UserCheck::Kind::user: return "user";
    case UserCheck::Kind::refused: return "refused";
    case UserCheck::Kind::unavailable: return "unavailable";
  }
  return "refused";
}

/// The back end's 200 answer: `valid`, and the user as `user_id` (a string or an integer) or `user.id`.
UserCheck parse_answer(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) || !doc.is_object()) return {UserCheck::Kind::unavailable, "the back end's answer is not a JSON object"};
  bool valid = false;
  if (doc["valid"].get(valid)) return {UserCheck::Kind::unavailable, "the back end's answer has no boolean \"valid\""};
  if (!valid) return {UserCheck::Kind::refused, "the back end refused the token"};
  simdjson::dom::element id;
  if (doc["user_id"].get(id) && doc.at_pointer("/user/id").get(id))
    return {UserCheck::Kind::unavailable, "the back end's answer names no user_id"};
  std::string user;
  if (std::string_view s; !id.get(s)) user = s;
  else if (std::int64_t n = 0; !id.get(n)) user = std::to_string(n);
  if (user.empty()) return {UserCheck::Kind::unavailable, "the back end's user_id is neither a string nor an integer"};
  return {UserCheck::Kind::user, std::move(user)};
}

}  // namespace

UserTokens::UserTokens(UserTokenSettings settings, prometheus::Registry* registry) : settings_(std::move(settings)), registry_(registry) {
  if (remote()) http::Url::parse(settings_.validate_url);  // a bad URL fails at startup, not at the first user
  if (registry_)
    checks_ = &prometheus::BuildCounter()
                   .Name("anipipe_edge_user_token_checks_total")
                   .Help("User token checks by result (user, refused, unavailable) and source (key, cache, back_end)")
                   .Register(*registry_);
}

UserTokens::~UserTokens() = default;

void UserTokens::count(std::string_view result, std::string_view source) {
  if (checks_) checks_->Add({{"result", std::string(result)}, {"source", std::string(source)}}).Increment();
}

UserCheck UserTokens::check(std::string_view token) {
  if (!remote()) {
    if (settings_.secret.empty()) return {UserCheck::Kind::refused, "this edge takes no user tokens: connect without one"};
    const auto v = util::verify_hs256(token, settings_.secret);
    UserCheck c{UserCheck::Kind::user, v.claims.subject};
    if (!v.ok()) c = {UserCheck::Kind::refused, v.detail};
    else if (c.text.empty()) c = {UserCheck::Kind::refused, "the token names no user (sub)"};
    count(kind_name(c.kind), "key");
    return c;
  }
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(std::string(token)); it != cache_.end()) {
      if (it->second.until > std::chrono::steady_clock::now()) {
        count(kind_name(it->second.check.kind), "cache");
        return it->second.check;
      }
      cache_.erase(it);
    }
  }
  auto c = ask_back_end(token);
  count(kind_name(c.kind), "back_end");
  if (c.kind != UserCheck::Kind::unavailable) remember(token, c);
  return c;
}

std::string UserTokens::known_user(std::string_view token) {
  if (!remote()) {
    if (settings_.secret.empty()) return {};
    const auto v = util::verify_hs256(token, settings_.secret);
    return v.ok() ? v.claims.subject : std::string();
  }
  std::lock_guard lock(mutex_);
  const auto it = cache_.find(std::string(token));
  if (it == cache_.end() || it->second.check.kind != UserCheck::Kind::user || it->second.until <= std::chrono::steady_clock::now())
    return {};
  return it->second.check.text;
}

UserCheck UserTokens::ask_back_end(std::string_view token) {
  std::string body;
  json::Writer(body).begin_object().field("token", token).end_object();
  auto client = take_client();
  UserCheck c;
  try {
    const auto r = client->post("", body, "application/json", {{"Authorization", "Bearer " + settings_.service_token}});
    if (r.status == 200) c = parse_answer(r.body);
    else if (r.status == 401 || r.status == 403) {
      // The back end refuses the token, or the edge's own service token: its body says which.
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      bool valid = true;
      const bool says_invalid = !parser.parse(r.body).get(doc) && doc.is_object() && !doc["valid"].get(valid) && !valid;
      c = says_invalid
              ? UserCheck{UserCheck::Kind::refused, "the back end refused the token"}
              : UserCheck{UserCheck::Kind::unavailable, "the back end refused the edge's service token (" + std::to_string(r.status) + ")"};
    } else c = {UserCheck::Kind::unavailable, "the back end answered " + std::to_string(r.status)};
  } catch (const http::HttpError& e) {
    c = {UserCheck::Kind::unavailable, std::string("the back end did not answer: ") + e.what()};
  }
  give_back(std::move(client));
  if (c.kind == UserCheck::Kind::unavailable) spdlog::warn("user token check: {}", c.text);
  return c;
}

void UserTokens::remember(std::string_view token, const UserCheck& check) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (cache_.size() >= settings_.cache_max) {
    std::erase_if(cache_, [now](const auto& e) { return e.second.until <= now; });
    if (cache_.size() >= settings_.cache_max) cache_.clear();  // all fresh: start over rather than grow
  }
  const auto ttl = check.kind == UserCheck::Kind::user ? settings_.positive_ttl : settings_.negative_ttl;
  cache_[std::string(token)] = Cached{check, now + ttl};
}

std::unique_ptr<http::Client> UserTokens::take_client() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  http::ClientOptions options;
  options.connect_timeout = settings_.timeout;
  options.request_timeout = settings_.timeout;
  options.max_retries = 1;  // someone waits for the upgrade: one quick second try, then a 503
  options.backoff_initial = std::chrono::milliseconds(50);
  options.user_agent = "anipipe-edge";
  {
    std::lock_guard lock(mutex_);
    if (!breaker_) breaker_ = std::make_shared<http::CircuitBreaker>(5, std::chrono::seconds(10));
    options.shared_breaker = breaker_;
  }
  return std::make_unique<http::Client>(settings_.validate_url, options, registry_, "auth");
}

void UserTokens::give_back(std::unique_ptr<http::Client> client) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(client));
}

}  // namespace anipipe::edge
