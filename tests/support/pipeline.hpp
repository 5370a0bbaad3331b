#pragma once
// The whole pipeline for integration tests and the fault driver: the fake upstream, a set of
// topics no other test uses, and each worker as a child process wired to them. Tests start,
// kill and restart the workers they need; every process is reaped when its handle goes.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fake_upstream.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"

namespace anipipe::testing {

inline const std::string kEdgeServiceSecret = "pipeline-test-secret";
inline const std::string kEdgeUserSecret = "pipeline-test-user-secret";

struct PipelineTopics {
  std::string events, requests, titles, new_episode, results, invalidations, subscriptions, notifications, dlq;
};

/// One anilibria.new_episode record as a test reads it.
struct Announcement {
  std::int64_t title_id = 0;
  double ordinal = 0;
  std::string episode_id;
  std::string event_id;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
};

class Pipeline {
public:
  struct Options {
    int partitions = 3;
    /// Redis database the cache worker writes (the shared test redis-server has 16); -1: none.
    int redis_db = -1;
  };
  Pipeline() : Pipeline(Options{}) {}
  explicit Pipeline(Options options);

  FakeUpstream& upstream() { return *upstream_; }
  const PipelineTopics& topics() const { return topics_; }
  const std::string& dir() const { return dir_; }
  /// The consumer group of a group worker (sync, cache, notify) in this pipeline.
  std::string group(const std::string& worker) const { return groups_.at(worker); }
  std::string redis_url() const;

  /// Each worker with this pipeline's topics and quick test timings; a flag in extra replaces the default's.
  std::unique_ptr<Process> start_ingest(const std::string& log, const std::vector<std::string>& extra = {}) const;
  std::unique_ptr<Process> start_sync(const std::string& log, const std::vector<std::string>& extra = {}) const;
  std::unique_ptr<Process> start_cache(const std::string& log, const std::vector<std::string>& extra = {}) const;
  std::unique_ptr<Process> start_notify(const std::string& log, const std::vector<std::string>& extra = {}) const;
  /// The edge on a free port (set in `port` once it listens), ready (catalog loaded) within 60 s
  /// or it throws; with wait_ready false, once it listens. Its keys: kEdgeServiceSecret, kEdgeUserSecret.
  std::unique_ptr<Process> start_edge(const std::string& log, int& port, const std::vector<std::string>& extra = {},
                                      bool wait_ready = true) const;
  /// The ops CLI against this pipeline's topics (reconcile, groups, ...).
  CommandResult ops(const std::vector<std::string>& args) const;

  /// Every read_committed anilibria.new_episode record so far, in (partition, offset) order.
  std::vector<Announcement> announcements(std::chrono::milliseconds settle = std::chrono::milliseconds(1500)) const;
  /// Waits until `done(announcements)` holds or timeout passes; returns the last read.
  std::vector<Announcement> announcements_until(const std::function<bool(const std::vector<Announcement>&)>& done,
                                                std::chrono::milliseconds timeout) const;

private:
  Options options_;
  std::string dir_;
  PipelineTopics topics_;
  std::map<std::string, std::string> groups_;
  std::unique_ptr<FakeUpstream> upstream_;
};

/// The port the edge says it listens on ("listening on http://127.0.0.1:<port>" in its log); 0 if
/// it did not say so within timeout.
int listening_port(const Process& edge, std::chrono::milliseconds timeout);

/// Announcements of one title, in order, by ordinal.
std::vector<double> ordinals_of(const std::vector<Announcement>& all, std::int64_t title_id);
/// (title, ordinal) announced more than once, with their counts.
std::map<std::pair<std::int64_t, double>, int> duplicates(const std::vector<Announcement>& all);

}  // namespace anipipe::testing
