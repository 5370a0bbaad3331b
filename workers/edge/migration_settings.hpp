#pragma once
// What puts the edge in front of the legacy back end (docs/migration.md): where it is, the flags
// that say who the edge serves, and the shadow comparison of the two sides' answers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "feature_flags.hpp"
#include "shadow_diff.hpp"
#include "topic_names.hpp"

namespace anipipe::edge {

struct LegacySettings {
  std::string url;  // empty: no legacy back end, the edge serves everything
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_in_flight = 1'000;  // proxied requests waiting on it at once; beyond: 503 at once
  std::size_t max_idle = 64;          // keep-alive connections to it kept open while idle
};

struct ShadowSettings {
  double percent = 0;  // of the requests of a route family (GET) that are also asked of the other side
  std::size_t threads = 2;
  std::size_t queue_max = 256;  // beyond it a shadow is dropped (counted), never waited for
  DiffRules rules;
  std::uint64_t diff_sample = 10;  // 1 in N mismatches is produced to diffs_topic (1: all)
  std::string diffs_topic = topic_names::kShadowDiffs;
};

struct MigrationSettings {
  LegacySettings legacy;
  FlagSettings flags;  // flags.redis_url empty: no flags, every family is the legacy's
  std::string flag_titles = "anipipe_titles";
  ShadowSettings shadow;
};

}  // namespace anipipe::edge
