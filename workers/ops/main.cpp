// anipipe-ops: the operator's tool.
//   topics list   what the cluster has, next to what topics/topics.json says
//   topics diff   drift between the two; exit 1 if there is any
//   topics apply  create missing topics, add partitions, set configs; a second run changes nothing
//   topics offsets  every topic's partitions with first and end offsets
//   groups list   every consumer group with its state and members
//   groups lag    committed offsets, ends and lag of a consumer group (records and seconds)
//   groups reset  move a stopped group to earliest / latest / a time, for replays
//   replay        the same, by the name ops look for
//   groups describe  a group's members: instance ids, hosts, partitions
//   cache rebuild Redis rebuilt from anilibria.titles, with progress
//   dlq list|show|redrive  dead letters: filter, inspect, publish back to their source (loop-guarded)
//   tail          the newest records of a topic
//   freshness     freshness per stage, from the workers' /metrics
//   serve         the ops page (all of the above in a browser)
//   reconcile     the reconciliation sweep now: every upstream title (or the ones named) observed
//                 again, for sync to repair what drifted
#include "config/options.hpp"
#include "ops_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"anipipe-ops: topics as code for the anipipe Kafka pipeline"};
  app.require_subcommand(1);
  anipipe::ops::OpsContext ctx;
  anipipe::config::add_kafka_options(app, ctx.kafka);
  app.add_option("--timeout", ctx.timeout_s, "Seconds to wait for each admin request")
      ->envname("ANIPIPE_ADMIN_TIMEOUT")
      ->capture_default_str();
  std::vector<anipipe::ops::Command> commands;
  for (auto add : {anipipe::ops::add_topics_commands, anipipe::ops::add_groups_commands, anipipe::ops::add_cache_commands,
                   anipipe::ops::add_dlq_commands, anipipe::ops::add_read_commands, anipipe::ops::add_serve_and_reconcile_commands})
    add(app, ctx, commands);
  anipipe::config::parse_or_exit(app, argc, argv);
  try {
    for (const auto& c : commands)
      if (*c.cmd) return c.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anipipe-ops: %s\n", e.what());
    return 2;
  }
  return 2;
}
