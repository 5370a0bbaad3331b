#include "runtime/instance_lease.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace anipipe::runtime {
namespace {

/// Letters, digits, '.', '_' and '-' only: the id goes into group.instance.id, transactional ids
/// and file names.
std::string safe(std::string_view text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  return out.empty() ? "_" : out;
}

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) return "host";
  return safe(host);
}

}  // namespace

std::string default_instance_dir() {
  if (const char* run = std::getenv("ANIPIPE_RUN_DIR"); run && *run) return std::string(run) + "/instances";
  return "/tmp/anipipe-instances-" + std::to_string(getuid());
}

InstanceLease InstanceLease::acquire(const std::string& explicit_id, const std::string& dir, const std::string& group, int max_slots) {
  if (!explicit_id.empty()) return InstanceLease(explicit_id, -1, -1, "");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create the instance folder " + dir + ": " + ec.message() + " (--instance-dir)");
  for (int slot = 0; slot < max_slots; ++slot) {
    const std::string path = dir + "/" + safe(group) + "." + std::to_string(slot) + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno) + " (--instance-dir)");
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      // The holder's pid, for a person looking at the folder; the lock is what counts.
      const std::string pid = std::to_string(getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0) [[maybe_unused]]
        const auto written = ::write(fd, pid.data(), pid.size());
      return InstanceLease(host_name() + "-" + std::to_string(slot), fd, slot, path);
    }
    const int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK) throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
  }
  throw std::runtime_error("all " + std::to_string(max_slots) + " instance slots of group " + group + " in " + dir + " are taken");
}

InstanceLease::InstanceLease(InstanceLease&& other) noexcept
    : id_(std::move(other.id_)), fd_(std::exchange(other.fd_, -1)), slot_(other.slot_), path_(std::move(other.path_)) {}

InstanceLease::~InstanceLease() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays for the next holder
}

}  // namespace anipipe::runtime
