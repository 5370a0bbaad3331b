#pragma once
// Which instance of a group worker this process is: the id behind static membership
// (group.instance.id) and sync's transactional id. It must stay the same across restarts of one
// instance - so that a kill -9 and restart takes its partitions back at once instead of after the
// session timeout - and differ between instances running at the same time, or the newer one
// fences the older.
//
// Given (--instance-id), the id is used as it is: an orchestrator that names its instances (compose,
// a StatefulSet) knows best. Otherwise the process leases the lowest free slot of its group in a
// folder shared by the instances on this host (--instance-dir): slot N is the file
// "<group>.<N>.lock" held with flock(), which the kernel releases when the process ends, however
// it ends. A restarted instance gets its slot back, a second instance the next one, and the id is
// "<host>-<N>".
#include <optional>
#include <string>

namespace anipipe::runtime {

class InstanceLease {
public:
  /// explicit_id non-empty: that id, nothing leased. Throws if no slot can be leased (the folder
  /// cannot be created, or every one of max_slots is taken).
  static InstanceLease acquire(const std::string& explicit_id, const std::string& dir, const std::string& group, int max_slots = 1024);

  InstanceLease(InstanceLease&& other) noexcept;
  InstanceLease& operator=(InstanceLease&&) = delete;
  InstanceLease(const InstanceLease&) = delete;
  ~InstanceLease();

  const std::string& id() const { return id_; }
  /// The leased slot; nullopt for an explicit id.
  std::optional<int> slot() const { return slot_ < 0 ? std::nullopt : std::optional<int>(slot_); }
  /// The lock file held, empty for an explicit id.
  const std::string& path() const { return path_; }

private:
  InstanceLease(std::string id, int fd, int slot, std::string path) : id_(std::move(id)), fd_(fd), slot_(slot), path_(std::move(path)) {}
  std::string id_;
  int fd_ = -1;
  int slot_ = -1;
  std::string path_;
};

/// $ANIPIPE_RUN_DIR/instances when that is set (scripts/run's run folder), else
/// /tmp/anipipe-instances-<uid>: a folder every instance on this host finds without being told.
std::string default_instance_dir();

}  // namespace anipipe::runtime
