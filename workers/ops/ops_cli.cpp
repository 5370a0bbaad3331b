#include "ops_cli.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cache_rebuild.hpp"
#include "dlq_commands.hpp"
#include "freshness_report.hpp"
#include "group_commands.hpp"
#include "ops_server.hpp"
#include "reconcile.hpp"
#include "topic_names.hpp"
#include "topic_offsets.hpp"
#include "topic_tail.hpp"
#include "topics_commands.hpp"
#include "util/clock.hpp"

namespace anipipe::ops {

kafka::Admin& OpsContext::admin() {
  if (!admin_) admin_ = std::make_unique<kafka::Admin>(kafka, std::chrono::seconds(timeout_s));
  return *admin_;
}

void add_topics_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto a = std::make_shared<TopicsArgs>();
  auto& targs = *a;
  auto* topics = app.add_subcommand("topics", "Topics as code: topics/topics.json is the source of truth");
  topics->require_subcommand(1);
  topics->add_option("--file", targs.file, "Topic catalog (default: $ANIPIPE_TOPICS_FILE or the repo's topics/topics.json)")
      ->envname("ANIPIPE_TOPICS_FILE");
  topics->add_option("--partitions", targs.partitions, "Use this partition count for every topic (e.g. 1 for a laptop)")
      ->envname("ANIPIPE_TOPIC_PARTITIONS")
      ->check(CLI::Range(1, 10000));
  topics
      ->add_option("--profile", targs.profile,
                   "A profile of the catalog over every topic (cluster: replication 3, "
                   "min.insync.replicas 2); auto: cluster from 3 brokers on; none")
      ->envname("ANIPIPE_TOPICS_PROFILE")
      ->capture_default_str();
  auto* list_cmd = topics->add_subcommand("list", "Catalog partitions next to the cluster's");
  auto* diff_cmd = topics->add_subcommand("diff", "Report drift (partition count, configs); exit 1 on drift");
  auto* apply_cmd = topics->add_subcommand("apply", "Create missing topics, add partitions, set configs (idempotent)");
  auto offsets_json = std::make_shared<bool>(false);
  auto* offsets_cmd = topics->add_subcommand("offsets", "Every topic's partitions with their first and end offsets");
  offsets_cmd->add_flag("--json", *offsets_json, "A JSON array instead of the table");

  // "topics diff --file x" reads naturally; let the leaf commands pass options up to "topics".
  for (auto* cmd : {list_cmd, diff_cmd, apply_cmd, offsets_cmd}) cmd->fallthrough();
  topics->fallthrough();
  commands.push_back({list_cmd, [&ctx, a] { return topics_list(ctx.admin(), *a); }});
  commands.push_back({diff_cmd, [&ctx, a] { return topics_diff(ctx.admin(), *a); }});
  commands.push_back({apply_cmd, [&ctx, a] { return topics_apply(ctx.admin(), *a); }});
  commands.push_back({offsets_cmd, [&ctx, offsets_json] { return print_topic_offsets(ctx.admin(), *offsets_json); }});
}

namespace {

struct GroupArgs {
  std::string group, reset_to;
  std::vector<std::string> group_topics;
  bool dry_run = false, groups_json = false;
};

}  // namespace

void add_groups_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto a = std::make_shared<GroupArgs>();
  auto& [group, reset_to, group_topics, dry_run, groups_json] = *a;
  auto* groups = app.add_subcommand("groups", "Consumer groups: lag, and offset resets for replays");
  groups->require_subcommand(1);
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

  commands.push_back({groups_list_cmd, [&ctx, a] { return print_groups(ctx.admin(), a->groups_json); }});
  commands.push_back({lag_cmd, [&ctx, a] { return print_group_lag(ctx.kafka, ctx.admin(), a->group, a->group_topics, a->groups_json); }});
  commands.push_back({describe_cmd, [&ctx, a] { return print_group_members(ctx.admin(), a->group); }});
  for (auto* cmd : {reset_cmd, replay_cmd})
    commands.push_back({cmd, [&ctx, a] {
                          auto to = parse_reset_target(a->reset_to);
                          if (!to) {
                            std::fprintf(stderr, "anipipe-ops: --to must be earliest, latest or an RFC 3339 time, got '%s'\n",
                                         a->reset_to.c_str());
                            return 2;
                          }
                          return reset_group(ctx.admin(), a->group, a->group_topics, *to, a->dry_run);
                        }});
}

void add_cache_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto r = std::make_shared<CacheRebuildOptions>();
  auto& rebuild = *r;
  auto* cache_cmd = app.add_subcommand("cache", "Redis, as the cache workers keep it");
  cache_cmd->require_subcommand(1);
  auto* rebuild_cmd = cache_cmd->add_subcommand("rebuild", "Replay anilibria.titles over the live keys (readers never miss; "
                                                           "nothing goes back in time), then sweep what the catalog "
                                                           "no longer has (safe while cache workers run)");
  rebuild_cmd->add_option("--redis-url", rebuild.redis_url, "redis://[:password@]host[:port][/db]")
      ->envname("ANIPIPE_REDIS_URL")
      ->capture_default_str();
  rebuild_cmd->add_option("--titles-topic", rebuild.titles_topic)->envname("ANIPIPE_CACHE_TITLES_TOPIC")->capture_default_str();
  rebuild_cmd->add_option("--batch", rebuild.batch, "Titles per Redis pipeline")->capture_default_str()->check(CLI::Range(1, 100000));
  rebuild_cmd->add_option("--connections", rebuild.connections, "Redis connections applying batches at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));

  commands.push_back({rebuild_cmd, [&ctx, r] {
                        r->progress_bar = isatty(STDERR_FILENO) != 0;
                        return rebuild_cache(ctx.kafka, ctx.admin(), *r);
                      }});
}

namespace {

struct DlqArgs {
  std::string dlq_topic = topic_names::kDlq, dlq_since, dlq_which, dlq_record;
  DlqFilter dlq_filter;
  RedriveOptions redrive;
  bool dlq_json = false;
};

}  // namespace

void add_dlq_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto a = std::make_shared<DlqArgs>();
  auto& [dlq_topic, dlq_since, dlq_which, dlq_record, dlq_filter, redrive, dlq_json] = *a;
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
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  dlq_redrive_cmd->add_flag("--dry-run", redrive.dry_run, "Print what would be re-driven, publish nothing");
  dlq_redrive_cmd->add_flag("--again", redrive.again, "Re-drive what was re-driven before as well");
  dlq_redrive_cmd->add_option("--schema-dir", redrive.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");
  for (auto* cmd : {dlq_list_cmd, dlq_show_cmd, dlq_redrive_cmd}) cmd->fallthrough();

  for (auto* cmd : {dlq_list_cmd, dlq_redrive_cmd})
    commands.push_back({cmd, [&ctx, a, list = cmd == dlq_list_cmd] {
                          if (!a->dlq_since.empty()) {
                            const auto t = util::parse_rfc3339(a->dlq_since);
                            if (!t) throw std::invalid_argument("--since must be an RFC 3339 time, not '" + a->dlq_since + "'");
                            a->dlq_filter.since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
                          }
                          if (!a->dlq_record.empty()) a->dlq_filter.record = parse_dlq_place(a->dlq_record);
                          return list ? dlq_list(ctx.kafka, a->dlq_topic, a->dlq_filter, a->dlq_json)
                                      : dlq_redrive(ctx.kafka, a->dlq_topic, a->dlq_filter, a->redrive);
                        }});
  commands.push_back({dlq_show_cmd, [&ctx, a] { return dlq_show(ctx.kafka, a->dlq_topic, a->dlq_which); }});
}

namespace {

struct ReadArgs {
  std::string tail_topic;
  std::size_t tail_n = 20;
  bool tail_json = false;
  std::vector<std::string> metrics_urls;
  bool freshness_json = false;
};

}  // namespace

void add_read_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto a = std::make_shared<ReadArgs>();
  auto& [tail_topic, tail_n, tail_json, metrics_urls, freshness_json] = *a;
  auto* tail_cmd = app.add_subcommand("tail", "The newest records of a topic, oldest first");
  tail_cmd->add_option("--topic", tail_topic, "Topic")->required();
  tail_cmd->add_option("-n", tail_n, "How many")->capture_default_str()->check(CLI::Range(1, 10000));
  tail_cmd->add_flag("--json", tail_json, "A JSON array instead of lines");

  auto* freshness_cmd = app.add_subcommand("freshness", "Freshness per stage (catalog, redis, websocket, webhook, notified): how old an "
                                                        "upstream observation is when its effect lands, from the workers' /metrics");
  freshness_cmd->add_option("--metrics-url", metrics_urls, "A worker's /metrics URL (repeatable)")
      ->required()
      ->envname("ANIPIPE_OPS_METRICS_URLS")
      ->delimiter(',');
  freshness_cmd->add_flag("--json", freshness_json, "One JSON object instead of the table");

  commands.push_back({tail_cmd, [&ctx, a] { return print_tail(ctx.kafka, a->tail_topic, a->tail_n, a->tail_json); }});
  commands.push_back({freshness_cmd, [a] { return print_freshness(a->metrics_urls, a->freshness_json); }});
}

void add_serve_and_reconcile_commands(CLI::App& app, OpsContext& ctx, std::vector<Command>& commands) {
  auto s = std::make_shared<ServeOptions>();
  auto& serve = *s;
  auto* serve_cmd = app.add_subcommand("serve", "The ops page: topics, groups and lag, dead letters with re-drive, a live tail, "
                                                "freshness; GET / in a browser");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (port 0: any free one)")->envname("ANIPIPE_OPS_LISTEN")->capture_default_str();
  serve_cmd
      ->add_option("--token", serve.token,
                   "Bearer token every /api request must carry (required off loopback); open the page "
                   "as /#token=...")
      ->envname("ANIPIPE_OPS_TOKEN");
  serve_cmd->add_option("--dlq-topic", serve.dlq_topic)->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  serve_cmd->add_option("--metrics-url", serve.metrics_urls, "A worker's /metrics URL, for freshness (repeatable)")
      ->envname("ANIPIPE_OPS_METRICS_URLS")
      ->delimiter(',');
  serve_cmd->add_option("--max-redrives", serve.redrive.max_redrives, "Refuse a record already re-driven this often")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve_cmd->add_option("--schema-dir", serve.redrive.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");
  serve_cmd->add_option("--max-connections", serve.max_connections, "Connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));

  commands.push_back({serve_cmd, [&ctx, s] {
                        s->admin_timeout = std::chrono::seconds(ctx.timeout_s);
                        return ops::serve(ctx.kafka, *s);
                      }});
  auto r = std::make_shared<ReconcileOptions>();
  auto& reconcile = *r;
  auto* reconcile_cmd = app.add_subcommand("reconcile", "Run the reconciliation sweep now: an observation of every upstream title "
                                                        "(and of catalog titles the upstream no longer lists), or of the --title ids "
                                                        "given, for sync to fetch and repair; nothing is announced twice");
  reconcile_cmd->add_option("--upstream-url", reconcile.upstream_url, "The v1 API root, e.g. https://anilibria.top/api/v1")
      ->envname("ANIPIPE_INGEST_V1_BASE_URL");
  reconcile_cmd->add_option("--title", reconcile.titles, "Only this title (repeatable); needs no upstream URL");
  reconcile_cmd->add_option("--topic", reconcile.events_topic, "Where observations go")
      ->envname("ANIPIPE_INGEST_TOPIC")
      ->capture_default_str();
  reconcile_cmd->add_option("--titles-topic", reconcile.sweep.titles_topic, "The catalog, for titles the upstream no longer lists")
      ->envname("ANIPIPE_INGEST_TITLES_TOPIC")
      ->capture_default_str();
  reconcile_cmd->add_option("--rate", reconcile.sweep.titles_per_second, "Titles observed per second at most (sync fetches each)")
      ->envname("ANIPIPE_INGEST_RECONCILE_RATE")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100'000.0));
  reconcile_cmd->add_option("--dlq-topic", reconcile.dlq_topic)->envname("ANIPIPE_DLQ_TOPIC")->capture_default_str();
  reconcile_cmd->add_option("--schema-dir", reconcile.schema_dirs, "JSON Schema directories (default: the repo's schemas/)")
      ->envname("ANIPIPE_SCHEMA_DIR");

  commands.push_back({reconcile_cmd, [&ctx, r] { return ops::reconcile(ctx.kafka, *r); }});
}

}  // namespace anipipe::ops
