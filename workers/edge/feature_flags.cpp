#include "feature_flags.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace anipipe::edge {

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool flag_decision(std::string_view flag, std::string_view who, bool is_user, const FlagValues& values) {
  if (values.global == "disabled") return false;
  if (is_user && values.user && !values.user->empty()) return *values.user == "enabled";
  if (values.percentage && !values.percentage->empty()) {
    int percent = 0;
    const auto& p = *values.percentage;
    // The seed's int(p): a value that is not a number turns nobody on.
    if (std::from_chars(p.data(), p.data() + p.size(), percent).ec != std::errc{}) return false;
    return static_cast<int>(fnv1a64(std::string(flag) + ":" + std::string(who)) % 100) < percent;
  }
  return values.global == "enabled";
}

FeatureFlags::FeatureFlags(FlagSettings settings, prometheus::Registry* registry)
    : settings_(std::move(settings)), connections_([o = settings_] {
        auto options = redis::Options::parse(o.redis_url);
        options.connect_timeout = o.redis_timeout;
        options.command_timeout = o.redis_timeout;
        return std::make_unique<redis::Client>(options);
      }) {
  redis::Options::parse(settings_.redis_url);  // a bad URL is a startup error
  if (registry)
    reads_ = &prometheus::BuildCounter()
                  .Name("anipipe_edge_flag_reads_total")
                  .Help("Feature-flag answers by source: cache, redis, stale (Redis down, last answer kept), fallback (Redis down, "
                        "nothing recent: legacy)")
                  .Register(*registry);
}

void FeatureFlags::count(const char* source) {
  if (reads_) reads_->Add({{"source", source}}).Increment();
}

std::optional<FlagValues> FeatureFlags::read(const std::string& flag, std::string_view who, bool is_user) {
  {
    std::lock_guard lock(mutex_);
    if (std::chrono::steady_clock::now() < redis_retry_at_) return std::nullopt;
  }
  const std::string prefix = "feature:" + flag + ":";
  std::vector<redis::Command> commands{{"GET", prefix + "global"}, {"GET", prefix + "percentage"}};
  if (is_user) commands.push_back({"GET", prefix + "user:" + std::string(who)});
  try {
    auto connection = connections_.lease();
    const auto replies = connection->pipeline(commands);
    auto value = [&](std::size_t i) -> std::optional<std::string> {
      if (i >= replies.size() || replies[i].type != redis::Reply::Type::string) return std::nullopt;
      return replies[i].str;
    };
    return FlagValues{value(0), is_user ? value(2) : std::nullopt, value(1)};
  } catch (const std::exception& e) {
    // Every request would otherwise wait out a connect timeout: Redis is left alone for a second.
    std::lock_guard lock(mutex_);
    redis_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    spdlog::warn("feature flags: Redis unavailable ({}); cached answers for {} ms, then the legacy side", e.what(),
                 settings_.stale_for.count());
    return std::nullopt;
  }
}

std::string FeatureFlags::cache_key(const std::string& flag, std::string_view user, std::string_view client_ip) {
  return flag +
         (user.empty() ? "\x1f"
                         "a:"
                       : "\x1fu:") +
         std::string(user.empty() ? client_ip : user);
}

std::optional<bool> FeatureFlags::cached(const std::string& flag, std::string_view user, std::string_view client_ip) {
  const auto key = cache_key(flag, user, client_ip);
  std::optional<bool> on;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end() && std::chrono::steady_clock::now() - it->second.read < settings_.cache_for)
      on = it->second.on;
  }
  if (on) count("cache");
  return on;
}

bool FeatureFlags::enabled(const std::string& flag, std::string_view user, std::string_view client_ip) {
  const bool is_user = !user.empty();
  const std::string_view who = is_user ? user : client_ip;
  std::string key = cache_key(flag, user, client_ip);
  const auto now = std::chrono::steady_clock::now();
  std::optional<Entry> cached;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) cached = it->second;
  }
  if (cached && now - cached->read < settings_.cache_for) {
    count("cache");
    return cached->on;
  }
  const auto values = read(flag, who, is_user);
  if (!values) {
    const bool recent = cached && now - cached->read < settings_.cache_for + settings_.stale_for;
    count(recent ? "stale" : "fallback");
    return recent && cached->on;
  }
  const bool on = flag_decision(flag, who, is_user, *values);
  count("redis");
  std::lock_guard lock(mutex_);
  // A bound, not an LRU: past it the cache starts over (each entry lives a second anyway).
  if (cache_.size() >= settings_.max_entries) cache_.clear();
  cache_[std::move(key)] = {on, now};
  return on;
}

}  // namespace anipipe::edge
