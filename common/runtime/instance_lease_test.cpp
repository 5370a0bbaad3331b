#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <optional>

#include "runtime/instance_lease.hpp"

using anipipe::runtime::InstanceLease;

namespace {
std::string fresh_dir() {
  char tmpl[] = "/tmp/anipipe-lease-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}
std::string host_part(const std::string& id) { return id.substr(0, id.rfind('-')); }
}  // namespace

TEST_CASE("instances lease the lowest free slot of their group, and a released slot is leased again") {
  const auto dir = fresh_dir();
  auto a = InstanceLease::acquire("", dir, "anipipe-sync");
  auto b = InstanceLease::acquire("", dir, "anipipe-sync");
  CHECK(a.slot() == 0);
  CHECK(b.slot() == 1);
  CHECK(a.id() != b.id());
  CHECK(host_part(a.id()) == host_part(b.id()));
  CHECK(a.id().ends_with("-0"));
  // Another group has slots of its own.
  auto other = InstanceLease::acquire("", dir, "anipipe-cache");
  CHECK(other.slot() == 0);
  {
    // An instance that ends (however: the kernel releases the lock) frees its slot for its restart.
    std::optional<InstanceLease> c(InstanceLease::acquire("", dir, "anipipe-sync"));
    CHECK(c->slot() == 2);
    const auto id = c->id();
    c.reset();
    auto restarted = InstanceLease::acquire("", dir, "anipipe-sync");
    CHECK(restarted.id() == id);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a given instance id is used as it is, nothing leased; a group name that is no file name still leases") {
  const auto dir = fresh_dir();
  auto given = InstanceLease::acquire("sync-eu-1", dir, "anipipe-sync");
  CHECK(given.id() == "sync-eu-1");
  CHECK_FALSE(given.slot());
  CHECK(given.path().empty());
  auto odd = InstanceLease::acquire("", dir, "team/a b");
  CHECK(odd.slot() == 0);
  CHECK(odd.path().find('/', dir.size() + 1) == std::string::npos);  // no folder made of the group name
  std::filesystem::remove_all(dir);
}

TEST_CASE("no free slot, or a folder that cannot be made, is a start-up error with the reason") {
  const auto dir = fresh_dir();
  auto only = InstanceLease::acquire("", dir, "g", 1);
  CHECK_THROWS_WITH(InstanceLease::acquire("", dir, "g", 1), doctest::Contains("taken"));
  CHECK_THROWS_WITH(InstanceLease::acquire("", "/proc/anipipe-cannot-be-here", "g"), doctest::Contains("--instance-dir"));
  std::filesystem::remove_all(dir);
}
