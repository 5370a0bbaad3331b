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
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "config/options.hpp"
#include "kafka/admin.hpp"
#include "cache_rebuild.hpp"
#include "group_commands.hpp"
#include "dlq_commands.hpp"
#include "freshness_report.hpp"
#include "ops_server.hpp"
#include "topic_offsets.hpp"
#include "topic_tail.hpp"
#include "reconcile.hpp"
#include "util/clock.hpp"
#include "topic_catalog.hpp"
#include "topic_plan.hpp"

namespace {

using anipipe::kafka::Admin;
using anipipe::kafka::TopicSpec;
using anipipe::ops::ClusterTopic;
using anipipe::ops::TopicChange;

struct TopicsArgs {
  std::string file;
  int partitions = 0;  // 0: as the catalog says
  std::string profile = "auto";
};

std::vector<TopicSpec> load(Admin& admin, const TopicsArgs& args) {
  std::string profile = args.profile == "none" ? "" : args.profile;
  if (profile == "auto") {
    const auto brokers = admin.cluster({"-"}).brokers.size();
    profile = anipipe::ops::auto_profile(brokers);
    if (!profile.empty()) std::fprintf(stderr, "%zu brokers: the catalog's \"%s\" profile\n", brokers, profile.c_str());
  }
  auto specs = anipipe::ops::load_topic_catalog(args.file.empty() ? anipipe::ops::default_topic_catalog()
                                                                  : std::filesystem::path(args.file), profile);
  if (args.partitions > 0)
    for (auto& s : specs) s.partitions = args.partitions;
  return specs;
}

std::map<std::string, ClusterTopic> describe(Admin& admin, const std::vector<TopicSpec>& specs) {
  const auto existing = admin.list_topics();
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  std::map<std::string, int> replication;
  for (const auto& p : admin.cluster(names).partitions)
    if (p.partition == 0) replication[p.topic] = static_cast<int>(p.replicas.size());
  std::map<std::string, ClusterTopic> cluster;
  for (const auto& s : specs) {
    auto it = existing.find(s.name);
    if (it == existing.end()) continue;
    cluster[s.name] = {it->second, admin.topic_overrides(s.name), replication[s.name]};
  }
  return cluster;
}

const char* marker(TopicChange::Kind k) {
  switch (k) {
    case TopicChange::Kind::create: return "+";
    case TopicChange::Kind::shrink_refused:
    case TopicChange::Kind::replication_refused: return "!";
    default: return "~";
  }
}

int list(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto existing = admin.list_topics();
  std::printf("%-34s %10s %10s\n", "topic", "catalog", "cluster");
  for (const auto& s : specs) {
    auto it = existing.find(s.name);
    std::printf("%-34s %10d %10s\n", s.name.c_str(), s.partitions, it == existing.end() ? "missing" : std::to_string(it->second).c_str());
  }
  for (const auto& [name, parts] : existing) {
    bool known = false;
    for (const auto& s : specs) known |= s.name == name;
    if (!known) std::printf("%-34s %10s %10d\n", name.c_str(), "-", parts);
  }
  return 0;
}

int diff(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto changes = anipipe::ops::plan_topics(specs, describe(admin, specs));
  for (const auto& c : changes) std::printf("%s %s: %s\n", marker(c.kind), c.spec.name.c_str(), c.description.c_str());
  if (changes.empty()) {
    std::printf("no drift: %zu topic(s) match the catalog\n", specs.size());
    return 0;
  }
  std::printf("drift: %zu change(s); run 'anipipe-ops topics apply'\n", changes.size());
  return 1;
}

int apply(Admin& admin, const TopicsArgs& args) {
  const auto specs = load(admin, args);
  const auto changes = anipipe::ops::plan_topics(specs, describe(admin, specs));
  if (changes.empty()) {
    std::printf("nothing to change: %zu topic(s) already match the catalog\n", specs.size());
    return 0;
  }
  int refused = 0;
  std::vector<TopicSpec> to_create;
  for (const auto& c : changes)
    if (c.kind == TopicChange::Kind::create) to_create.push_back(c.spec);
  if (!to_create.empty()) {
    admin.create_topics(to_create);
    // The controller has them; every broker's metadata follows a moment later. Return once
    // they are visible, so that what runs next (workers, a diff) finds them on any broker.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const auto listed = admin.list_topics();
      const bool all = std::all_of(to_create.begin(), to_create.end(), [&](const TopicSpec& t) { return listed.count(t.name) > 0; });
      if (all || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  for (const auto& c : changes) {
    switch (c.kind) {
      case TopicChange::Kind::create: break;
      case TopicChange::Kind::add_partitions: admin.create_partitions(c.spec.name, c.spec.partitions); break;
      case TopicChange::Kind::set_configs: admin.alter_topic_configs(c.spec.name, c.spec.configs); break;
      case TopicChange::Kind::shrink_refused:
      case TopicChange::Kind::replication_refused: ++refused; break;
    }
    const bool refused_change = c.kind == TopicChange::Kind::shrink_refused || c.kind == TopicChange::Kind::replication_refused;
    std::printf("%s %s: %s%s\n", marker(c.kind), c.spec.name.c_str(), c.description.c_str(), refused_change ? " - refused" : " - done");
  }
  std::printf("applied %zu change(s)%s\n", changes.size() - static_cast<std::size_t>(refused),
              refused ? ", refused some (see '!')" : "");
  return refused ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-ops: topics as code for the anipipe Kafka pipeline"};
  app.require_subcommand(1);
  anipipe::kafka::Settings kafka;
  anipipe::config::add_kafka_options(app, kafka);
  int timeout_s = 30;
  app.add_option("--timeout", timeout_s, "Seconds to wait for each admin request")->envname("ANIPIPE_ADMIN_TIMEOUT")->capture_default_str();

  TopicsArgs targs;
  auto* topics = app.add_subcommand("topics", "Topics as code: topics/topics.json is the source of truth");
  topics->require_subcommand(1);
  topics->add_option("--file", targs.file, "Topic catalog (default: $ANIPIPE_TOPICS_FILE or the repo's topics/topics.json)")
      ->envname("ANIPIPE_TOPICS_FILE");
  topics->add_option("--partitions", targs.partitions, "Use this partition count for every topic (e.g. 1 for a laptop)")
      ->envname("ANIPIPE_TOPIC_PARTITIONS")->check(CLI::Range(1, 10000));
  topics->add_option("--profile", targs.profile, "A profile of the catalog over every topic (cluster: replication 3, "
                                                 "min.insync.replicas 2); auto: cluster from 3 brokers on; none")
      ->envname("ANIPIPE_TOPICS_PROFILE")->capture_default_str();
  auto* list_cmd = topics->add_subcommand("list", "Catalog partitions next to the cluster's");
  auto* diff_cmd = topics->add_subcommand("diff", "Report drift (partition count, configs); exit 1 on drift");
  auto* apply_cmd = topics->add_subcommand("apply", "Create missing topics, add partitions, set configs (idempotent)");
  bool offsets_json = false;
  auto* offsets_cmd = topics->add_subcommand("offsets", "Every topic's partitions with their first and end offsets");
  offsets_cmd->add_flag("--json", offsets_json, "A JSON array instead of the table");

  std::string group, reset_to;
  std::vector<std::string> group_topics;
  bool dry_run = false;
  auto* groups = app.add_subcommand("groups", "Consumer groups: lag, and offset resets for replays");
  groups->require_subcommand(1);
  bool groups_json = false;
  auto* groups_list_cmd = groups->add_subcommand("list", "Every consumer group: state and members");
  groups_list_cmd->add_flag("--json", groups_json, "A JSON array instead of the table");
  auto* lag_cmd = groups->add_subcommand("lag", "Committed offset, end and lag per partition, in records and seconds");
  lag_cmd->add_flag("--json", groups_json, "One JSON object instead of the table");
  lag_cmd->add_option("--group", group, "Consumer group id")->required();
  lag_cmd->add_option("--topic", group_topics, "Topic (repeatable; default: every topic the group has offsets on or is assigned)");
  auto* describe_cmd = groups->add_subcommand("describe", "Members: instance id (static members), client, host, partitions");
  describe_cmd->add_option("--group", group, "Consumer group id")->required();
  auto* reset_cmd = groups->add_subcommand("reset", "Move a group's offsets (its workers must be stopped)");
  // The replay of docs/design.md ("Scaling and replay"): the same as groups reset.
  auto* replay_cmd = app.add_subcommand("replay", "Replay topics into a stopped group's workers: move its offsets "
                                                  "(refused while the group has live members)");
  for (auto* cmd : {reset_cmd, replay_cmd}) {
    cmd->add_option("--group", group, "Consumer group id")->required();
    cmd->add_option("--topic", group_topics, "Topic (repeatable)")->required();
  }
  for (auto* cmd : {reset_cmd, replay_cmd}) {
    cmd->add_option("--to", reset_to, "earliest, latest, or an RFC 3339 time such as 2025-01-16T00:00:00Z")->required();
    cmd->add_flag("--dry-run", dry_run, "Print the target offsets, change nothing");
  }

  anipipe::ops::CacheRebuildOptions rebuild;
  auto* cache_cmd = app.add_subcommand("cache", "Redis, as the cache workers keep it");
  cache_cmd->require_subcommand(1);
  auto* rebuild_cmd = cache_cmd->add_subcommand("rebuild", "Replay anilibria.titles over the live keys (readers never miss; "
                                                           "nothing goes back in time), then sweep what the catalog "
                                                           "no longer has (safe while cache workers run)");
  rebuild_cmd->add_option("--redis-url", rebuild.redis_url, "redis://[:password@]host[:port][/db]")->envname("ANIPIPE_REDIS_URL")
      ->capture_default_str();
  rebuild_cmd->add_option("--titles-topic", rebuild.titles_topic)->envname("ANIPIPE_CACHE_TITLES_TOPIC")->capture_default_str();
  rebuild_cmd->add_option("--batch", rebuild.batch, "Titles per Redis pipeline")->capture_default_str()->check(CLI::Range(1, 100000));
  rebuild_cmd->add_option("--connections", rebuild.connections, "Redis connections applying batches at once")
      ->capture_default_str()->check(CLI::Range(1, 64));

  std::string dlq_topic = "anilibria.dlq", dlq_since, dlq_which, dlq_record;
  anipipe::ops::DlqFilter dlq_filter;
  anipipe::ops::RedriveOptions redrive;
  bool dlq_json = false;
  auto* dlq_cmd = app.add_subcommand("dlq", "Dead letters: list and filter, show one, re-drive to the source topic");
  dlq_cmd->require_subcommand(1);
  dlq_cmd->add_option("--topic", dlq_topic, "The dead-letter topic")->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  auto* dlq_list_cmd = dlq_cmd->add_subcommand("list", "One line per dead letter, oldest first: time, partition:offset, source, worker, "
                                                      "key, error");
  auto* dlq_show_cmd = dlq_cmd->add_subcommand("show", "A dead letter's envelope and original value");
  dlq_show_cmd->add_option("offset", dlq_which, "OFFSET, or PARTITION:OFFSET")->required();
  auto* dlq_redrive_cmd = dlq_cmd->add_subcommand("redrive", "Publish the original records back to their source topics "
                                                            "(a dlq-redrive-count header; refused past --max-redrives)");
  for (auto* cmd : {dlq_list_cmd, dlq_redrive_cmd}) {
    cmd->add_option("--source-topic", dlq_filter.source_topic, "Only dead letters from this topic");
    cmd->add_option("--worker", dlq_filter.worker, "Only dead letters of this worker (ingest, sync, cache, notify)");
    cmd->add_option("--error", dlq_filter.error_contains, "Only dead letters whose error contains this");
    cmd->add_option("--since", dlq_since, "Only dead letters at or after this RFC 3339 time");
    cmd->add_option("--limit", dlq_filter.limit, "The newest N of them");
    cmd->add_option("--record", dlq_record, "Only this dead letter: OFFSET or PARTITION:OFFSET");
  }
  dlq_list_cmd->add_flag("--json", dlq_json, "A JSON array instead of lines");
  dlq_redrive_cmd->add_option("--max-redrives", redrive.max_redrives, "Refuse a record already re-driven this often")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  dlq_redrive_cmd->add_flag("--dry-run", redrive.dry_run, "Print what would be re-driven, publish nothing");
  dlq_redrive_cmd->add_flag("--again", redrive.again, "Re-drive what was re-driven before as well");
  dlq_redrive_cmd->add_option("--schema-dir", redrive.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");
  for (auto* cmd : {dlq_list_cmd, dlq_show_cmd, dlq_redrive_cmd}) cmd->fallthrough();

  std::string tail_topic;
  std::size_t tail_n = 20;
  bool tail_json = false;
  auto* tail_cmd = app.add_subcommand("tail", "The newest records of a topic, oldest first");
  tail_cmd->add_option("--topic", tail_topic, "Topic")->required();
  tail_cmd->add_option("-n", tail_n, "How many")->capture_default_str()->check(CLI::Range(1, 10000));
  tail_cmd->add_flag("--json", tail_json, "A JSON array instead of lines");

  std::vector<std::string> metrics_urls;
  bool freshness_json = false;
  auto* freshness_cmd = app.add_subcommand("freshness", "Freshness per stage (catalog, redis, websocket, webhook, notified): how old an "
                                                        "upstream observation is when its effect lands, from the workers' /metrics");
  freshness_cmd->add_option("--metrics-url", metrics_urls, "A worker's /metrics URL (repeatable)")->required()
      ->envname("ANIPIPE_OPS_METRICS_URLS")->delimiter(',');
  freshness_cmd->add_flag("--json", freshness_json, "One JSON object instead of the table");

  anipipe::ops::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "The ops page: topics, groups and lag, dead letters with re-drive, a live tail, "
                                                "freshness; GET / in a browser");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (port 0: any free one)")->envname("ANIPIPE_OPS_LISTEN")->capture_default_str();
  serve_cmd->add_option("--token", serve.token, "Bearer token every /api request must carry (required off loopback); open the page "
                                                "as /#token=...")->envname("ANIPIPE_OPS_TOKEN");
  serve_cmd->add_option("--dlq-topic", serve.dlq_topic)->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  serve_cmd->add_option("--metrics-url", serve.metrics_urls, "A worker's /metrics URL, for freshness (repeatable)")
      ->envname("ANIPIPE_OPS_METRICS_URLS")->delimiter(',');
  serve_cmd->add_option("--max-redrives", serve.redrive.max_redrives, "Refuse a record already re-driven this often")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  serve_cmd->add_option("--schema-dir", serve.redrive.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");
  serve_cmd->add_option("--max-connections", serve.max_connections, "Connections served at once")->capture_default_str()
      ->check(CLI::Range(1, 1024));

  anipipe::ops::ReconcileOptions reconcile;
  auto* reconcile_cmd = app.add_subcommand("reconcile", "Run the reconciliation sweep now: an observation of every upstream title "
                                                        "(and of catalog titles the upstream no longer lists), or of the --title ids "
                                                        "given, for sync to fetch and repair; nothing is announced twice");
  reconcile_cmd->add_option("--upstream-url", reconcile.upstream_url, "The v1 API root, e.g. https://anilibria.top/api/v1")
      ->envname("ANIPIPE_INGEST_V1_BASE_URL");
  reconcile_cmd->add_option("--title", reconcile.titles, "Only this title (repeatable); needs no upstream URL");
  reconcile_cmd->add_option("--topic", reconcile.events_topic, "Where observations go")->envname("ANIPIPE_INGEST_TOPIC")
      ->capture_default_str();
  reconcile_cmd->add_option("--titles-topic", reconcile.sweep.titles_topic, "The catalog, for titles the upstream no longer lists")
      ->envname("ANIPIPE_INGEST_TITLES_TOPIC")->capture_default_str();
  reconcile_cmd->add_option("--rate", reconcile.sweep.titles_per_second, "Titles observed per second at most (sync fetches each)")
      ->envname("ANIPIPE_INGEST_RECONCILE_RATE")->capture_default_str()->check(CLI::Range(0.01, 100'000.0));
  reconcile_cmd->add_option("--dlq-topic", reconcile.dlq_topic)->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  reconcile_cmd->add_option("--schema-dir", reconcile.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");

  // "topics diff --file x" reads naturally; let the leaf commands pass options up to "topics".
  for (auto* cmd : {list_cmd, diff_cmd, apply_cmd, offsets_cmd}) cmd->fallthrough();
  topics->fallthrough();

  anipipe::config::parse_or_exit(app, argc, argv);
  try {
    // Commands that need no admin client of their own.
    if (*serve_cmd) {
      serve.admin_timeout = std::chrono::seconds(timeout_s);
      return anipipe::ops::serve(kafka, serve);
    }
    if (*tail_cmd) return anipipe::ops::print_tail(kafka, tail_topic, tail_n, tail_json);
    if (*freshness_cmd) return anipipe::ops::print_freshness(metrics_urls, freshness_json);
    Admin admin(kafka, std::chrono::seconds(timeout_s));
    if (*offsets_cmd) return anipipe::ops::print_topic_offsets(admin, offsets_json);
    if (*groups_list_cmd) return anipipe::ops::print_groups(admin, groups_json);
    if (*list_cmd) return list(admin, targs);
    if (*diff_cmd) return diff(admin, targs);
    if (*apply_cmd) return apply(admin, targs);
    if (*lag_cmd) return anipipe::ops::print_group_lag(kafka, admin, group, group_topics, groups_json);
    if (*describe_cmd) return anipipe::ops::print_group_members(admin, group);
    if (*reconcile_cmd) return anipipe::ops::reconcile(kafka, reconcile);
    if (*dlq_list_cmd || *dlq_redrive_cmd) {
      if (!dlq_since.empty()) {
        const auto t = anipipe::util::parse_rfc3339(dlq_since);
        if (!t) throw std::invalid_argument("--since must be an RFC 3339 time, not '" + dlq_since + "'");
        dlq_filter.since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
      }
      if (!dlq_record.empty()) dlq_filter.record = anipipe::ops::parse_dlq_place(dlq_record);
      return *dlq_list_cmd ? anipipe::ops::dlq_list(kafka, dlq_topic, dlq_filter, dlq_json)
                           : anipipe::ops::dlq_redrive(kafka, dlq_topic, dlq_filter, redrive);
    }
    if (*dlq_show_cmd) return anipipe::ops::dlq_show(kafka, dlq_topic, dlq_which);
    if (*rebuild_cmd) {
      rebuild.progress_bar = isatty(STDERR_FILENO) != 0;
      return anipipe::ops::rebuild_cache(kafka, admin, rebuild);
    }
    if (*reset_cmd || *replay_cmd) {
      auto to = anipipe::ops::parse_reset_target(reset_to);
      if (!to) {
        std::fprintf(stderr, "anipipe-ops: --to must be earliest, latest or an RFC 3339 time, got '%s'\n", reset_to.c_str());
        return 2;
      }
      return anipipe::ops::reset_group(admin, group, group_topics, *to, dry_run);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anipipe-ops: %s\n", e.what());
    return 2;
  }
  return 2;
}
