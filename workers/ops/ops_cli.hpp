#pragma once
// anipipe-ops' command line: each family of subcommands adds its commands, flags and what running
// each one does; main parses and runs the one given.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "kafka/admin.hpp"
#include "kafka/settings.hpp"

namespace anipipe::ops {

/// What every subcommand may use: the Kafka settings, and an admin client made on first use
/// (tail, freshness and serve need none of their own).
struct OpsContext {
  kafka::Settings kafka;
  int timeout_s = 30;
  kafka::Admin& admin();

private:
  std::unique_ptr<kafka::Admin> admin_;
};

/// A leaf subcommand and what running it does, once parsed.
struct Command {
  CLI::App* cmd;
  std::function<int()> run;
};

void add_topics_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);
void add_groups_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);
void add_cache_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);
void add_dlq_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);
/// tail and freshness.
void add_read_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);
void add_serve_and_reconcile_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands);

}  // namespace anipipe::ops
