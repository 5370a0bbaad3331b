#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <utility>

#include "kafka/fatal_error.hpp"
#include "runtime/worker_process.hpp"

using anipipe::runtime::run_process;
using anipipe::runtime::WorkerContext;

namespace {

anipipe::config::WorkerOptions group_worker(const std::string& instance_id) {
  char tmpl[] = "/tmp/anipipe-process-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  anipipe::config::WorkerOptions o;
  o.group = "g";
  o.metrics_addr = "off";
  o.log_level = "off";
  o.instance_dir = tmpl;
  o.instance_id = instance_id;
  return o;
}

const anipipe::kafka::FatalError kFenced("consumer fatal error: Fatal consumer error: Broker: Static consumer fenced by other consumer "
                                         "with same group.instance.id");

}  // namespace

TEST_CASE("a leased instance fenced by itself (a coordinator failover) starts its worker again in the process") {
  int runs = 0;
  const int code = run_process("test", group_worker(""), [&](const WorkerContext& ctx) {
    CHECK(ctx.group_instance_id.size() > 0);
    if (++runs < 3) throw kFenced;
    return 0;
  });
  CHECK(code == 0);
  CHECK(runs == 3);
}

/// Runs a worker body that always throws `error`: (exit code, how many times the body ran).
std::pair<int, int> run_always_failing(const std::string& instance_id, const anipipe::kafka::FatalError& error) {
  int runs = 0;
  const int code = run_process("test", group_worker(instance_id), [&](const WorkerContext&) -> int {
    ++runs;
    throw error;
  });
  return {code, runs};
}

TEST_CASE("a fence that keeps coming back ends the process after five rejoins, exit code 4") {
  CHECK(run_always_failing("", kFenced) == std::pair(4, 6));
}

TEST_CASE("a given instance id can have a twin: fenced, the process exits 4 at once") {
  CHECK(run_always_failing("twin", kFenced) == std::pair(4, 1));
}

TEST_CASE("a given instance id fenced by a newer transactional producer (a twin) exits 4 at once") {
  const anipipe::kafka::FatalError newer("transaction failed fatally: commit_transaction failed: Broker: There is a newer producer "
                                         "with the same transactionalId which fences the current one");
  CHECK(run_always_failing("twin", newer) == std::pair(4, 1));
  const anipipe::kafka::FatalError epoch("producer fatal error: Broker: Producer attempted an operation with an old epoch");
  CHECK(run_always_failing("twin", epoch) == std::pair(4, 1));
}

TEST_CASE("other fatal errors (a transaction a new coordinator refuses) start the worker again, five times at most, then exit 4") {
  const anipipe::kafka::FatalError refused("abort failed: abort_transaction failed: Failed to end transaction: Broker: Producer "
                                           "attempted a transactional operation in an invalid state");
  CHECK(run_always_failing("", refused) == std::pair(4, 6));
  CHECK(run_always_failing("given", refused) == std::pair(4, 6));
}
