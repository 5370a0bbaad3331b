#pragma once
// Who a user token names, one of two ways:
//  - a shared HS256 key (--user-secret): the edge checks the signature itself, no call;
//  - the site's back end (--auth-validate-url): seed 001's `POST /internal/auth/validate`
//    `{"token": ...}` with the edge's service token as Bearer, answered `{"valid": true,
//    "user_id": ...}` (200), or `{"valid": false}` / 401 / 403 for a token it refuses. The back end
//    stays the one that knows about logouts and bans; the edge caches its answers briefly, a
//    positive one longer than a negative one, so a reconnect storm costs it one call per token
//    and a revoked token stops working within the positive TTL.
// A back end that does not answer (transport error, 5xx, circuit open) is not an answer: nothing
// is cached and the caller is told `unavailable` (a 503), never let in on a guess.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace anipipe::http {
class Client;
class CircuitBreaker;
}  // namespace anipipe::http

namespace anipipe::edge {

struct UserTokenSettings {
  std::string secret;         // HS256 key; used when validate_url is empty
  std::string validate_url;   // the back end's POST /internal/auth/validate (http:// or https://)
  std::string service_token;  // Bearer the edge presents to the back end
  std::chrono::seconds positive_ttl{60}, negative_ttl{10};
  std::size_t cache_max = 100'000;
  std::chrono::milliseconds timeout{2'000};
};

struct UserCheck {
  enum class Kind { user, refused, unavailable };
  Kind kind = Kind::refused;
  std::string text;  // the user id, or why not
};

class UserTokens {
public:
  UserTokens(UserTokenSettings settings, prometheus::Registry* registry);
  ~UserTokens();
  UserTokens(const UserTokens&) = delete;
  UserTokens& operator=(const UserTokens&) = delete;

  /// Tokens are accepted at all (a key or a back end is configured).
  bool enabled() const { return !settings_.secret.empty() || remote(); }
  /// Checks ask the back end (and may block for up to the timeout): run them off the I/O threads.
  bool remote() const { return !settings_.validate_url.empty(); }
  UserCheck check(std::string_view token);
  /// The user of a token already known (the key's signature, or a cached positive answer), without
  /// a call: for rate limits, which must not cost the back end a request each.
  std::string known_user(std::string_view token);

private:
  struct Cached {
    UserCheck check;
    std::chrono::steady_clock::time_point until;
  };
  UserCheck ask_back_end(std::string_view token);
  void remember(std::string_view token, const UserCheck& check);
  void count(std::string_view result, std::string_view source);
  std::unique_ptr<http::Client> take_client();
  void give_back(std::unique_ptr<http::Client> client);

  UserTokenSettings settings_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;
  std::vector<std::unique_ptr<http::Client>> idle_;  // one client per concurrent check (not thread-safe)
  std::shared_ptr<http::CircuitBreaker> breaker_;    // shared by them: one back end
  prometheus::Registry* registry_;
  prometheus::Family<prometheus::Counter>* checks_ = nullptr;
};

}  // namespace anipipe::edge
