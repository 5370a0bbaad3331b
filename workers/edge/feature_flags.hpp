#pragma once
// Who is served by the edge and who by the legacy back end, from the site's feature flags in
// Redis in the seed's layout (docs/migration.md):
//   feature:{flag}:global      enabled | disabled   ("disabled" is the rollback, above everything)
//   feature:{flag}:user:{id}   enabled | disabled   (a per-user override)
//   feature:{flag}:percentage  0..100               (a stable share of users)
// The share is FNV-1a 64 of "{flag}:{who}" modulo 100, "who" being the user id or, for anonymous
// requests, the client address: stable across processes and restarts, so nobody flips sides, and
// a user inside 10 % stays inside 25 %. Answers are cached per (flag, who) for --flag-cache-ms;
// with Redis down the last answer holds for a while (stale_for), then the answer is "legacy"
// (the safe side), counted; a request never fails or waits long because Redis is down.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "idle_pool.hpp"
#include "redis/client.hpp"

namespace prometheus {
class Registry;
template <class T>
class Family;
class Counter;
}  // namespace prometheus

namespace anipipe::edge {

/// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 1099511628211).
std::uint64_t fnv1a64(std::string_view text);

/// The three keys' values (nullopt: the key does not exist).
struct FlagValues {
  std::optional<std::string> global, user, percentage;
};

/// The seed's decision, exactly: global "disabled" is off; a user's own key decides for them;
/// else a percentage decides by the stable hash of who; else global "enabled".
bool flag_decision(std::string_view flag, std::string_view who, bool is_user, const FlagValues& values);

struct FlagSettings {
  std::string redis_url;  // redis://host:port[/db]
  std::chrono::milliseconds cache_for{1'000};
  std::chrono::milliseconds stale_for{30'000};  // Redis down: how long a cached answer still holds
  std::chrono::milliseconds redis_timeout{250};
  std::size_t max_entries = 100'000;
};

class FeatureFlags {
public:
  FeatureFlags(FlagSettings settings, prometheus::Registry* registry);
  /// Whether `flag` is on for a user (user not empty) or an anonymous client (its address).
  bool enabled(const std::string& flag, std::string_view user, std::string_view client_ip);
  /// enabled()'s answer if the cache has a fresh one (nullopt: only Redis can say), never reading Redis.
  std::optional<bool> cached(const std::string& flag, std::string_view user, std::string_view client_ip);

private:
  struct Entry {
    bool on = false;
    std::chrono::steady_clock::time_point read;
  };
  static std::string cache_key(const std::string& flag, std::string_view user, std::string_view client_ip);
  std::optional<FlagValues> read(const std::string& flag, std::string_view who, bool is_user);
  void count(const char* source);

  FlagSettings settings_;
  IdlePool<redis::Client> connections_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
  std::chrono::steady_clock::time_point redis_retry_at_{};  // after a failure, Redis is not asked again before this
  prometheus::Family<prometheus::Counter>* reads_ = nullptr;
};

}  // namespace anipipe::edge
