// compose/prometheus and compose/grafana against a real Prometheus (Debian's package): promtool
// checks the config and the rules and runs the rules' own tests; then Prometheus scrapes the
// running pipeline of this test (every worker, the edge and the ops page) and every dashboard
// panel's query and every alert's measured quantity must return a result: a metric renamed in the
// code, or a label a panel groups by, cannot drift out from under them unnoticed. The edge stands in
// front of the fake legacy back end (tests/node/legacy_backend.js) so the migration's panels have
// both sides and the shadow comparison to show.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <simdjson.h>

#include "legacy_backend.hpp"
#include "pipeline.hpp"
#include "raw_http.hpp"
#include "redis/client.hpp"
#include "redis_listener.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

std::string compose_dir() { return source_dir() + "/compose"; }

/// "metrics on http://127.0.0.1:<port>/metrics" in a worker's log.
int metrics_port(const Process& worker) {
  const std::regex said(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)");
  int port = 0;
  eventually(
      [&] {
        std::ifstream in(worker.log_file());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        std::smatch m;
        if (!std::regex_search(text, m, said)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      30s);
  return port;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// A GET of Prometheus's API (curl: its larger answers are chunked).
CommandResult prometheus_get(int port, const std::string& target) {
  return run_command({"/usr/bin/env", "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + std::to_string(port) + target});
}

/// How many series an instant query returns (-1: the query failed, with Prometheus's error in `error`).
int series_count(int port, const std::string& query, std::string& error) {
  const auto r = prometheus_get(port, "/api/v1/query?query=" + url_encode(query));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view status;
  if (r.exit_code != 0 || parser.parse(r.output).get(doc) || doc["status"].get(status) || status != "success") {
    error = r.output;
    return -1;
  }
  simdjson::dom::array result;
  if (doc["data"]["result"].get(result)) return 0;
  return static_cast<int>(result.size());
}

/// An alert's expression without its bound: the quantity it watches ("x > 120" -> "x").
std::string measured(const std::string& expr) {
  static const std::regex bound(R"(\s*(==|!=|>=|<=|>|<)\s*[-+0-9.e]+\s*$)");
  return std::regex_replace(expr, bound, "");
}

}  // namespace

TEST_CASE("monitoring: promtool passes the compose config and alert rules, and each alert fires in its own rule test") {
  for (const auto& args : std::vector<std::vector<std::string>>{{"check", "config", compose_dir() + "/prometheus/prometheus.yml"},
                                                                {"check", "rules", compose_dir() + "/prometheus/alerts.yml"},
                                                                {"test", "rules", compose_dir() + "/prometheus/alerts_test.yml"}}) {
    std::vector<std::string> argv{"/usr/bin/env", "promtool"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_command(argv);
    INFO(args[0] << " " << args[1] << ": " << r.output);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("monitoring: a real Prometheus scraping the running pipeline has a result for every dashboard query and every alert") {
  Pipeline p({.partitions = 3, .redis_db = 7});
  const std::vector<std::string> metrics{"--metrics-addr", "127.0.0.1:0"};
  auto sync = p.start_sync("sync.log", metrics);
  auto cache = p.start_cache("cache.log", metrics);
  auto notify = p.start_notify("notify.log", metrics);
  auto ingest = p.start_ingest("ingest.log", metrics);
  // Titles are the edge's (the seed's flag, enabled), every other route the legacy's, and every
  // title read also asked of the legacy, which knows no titles: a mismatch on each.
  LegacyBackend legacy(p.dir());
  auto flags_options = test_redis_options();
  flags_options.db = 7;
  anipipe::redis::Client flags(flags_options);
  flags.command({"SET", "feature:anipipe_titles:global", "enabled"});
  int edge_port = 0;
  auto edge = p.start_edge("edge.log", edge_port,
                           {"--legacy-url", legacy.url(), "--redis-url", p.redis_url(), "--shadow-percent", "100", "--flag-cache-ms", "0"});
  INFO(sync->log_tail() << ingest->log_tail() << cache->log_tail());
  Process ops({ops_binary(), "--brokers", test_kafka_settings().brokers, "serve", "--listen", "127.0.0.1:0", "--dlq-topic", p.topics().dlq},
              p.dir() + "/ops.log");
  const int ops_port = listening_port(ops, 30s);
  REQUIRE(ops_port > 0);

  // Traffic for every panel: the seeded title through the catalog and Redis, an episode observed
  // live (freshness), edge requests, and a malformed sync request (a dead letter).
  REQUIRE(ordinals_of(p.announcements_until([](const auto& a) { return !ordinals_of(a, 9873).empty(); }, 60s), 9873).size() == 1);
  p.upstream().control("episode", R"({"release_id":9873,"ordinal":3})");
  REQUIRE(ordinals_of(p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() >= 2; }, 30s), 9873).size() == 2);
  produce_all(p.topics().requests, {{"9873", "this is not JSON"}});
  REQUIRE(consume(p.topics().dlq, 1, 30s).size() == 1);
  for (int i = 0; i < 5; ++i) {
    raw_http(edge_port, http_request("GET", "/api/anilibria/v2/titles/9873"));
    raw_http(edge_port, http_request("GET", "/health"));
    raw_http(edge_port, http_request("GET", "/api/anilibria/genres"));  // the legacy's
  }

  const std::string dir = p.dir() + "/prometheus";
  std::filesystem::create_directories(dir);
  const std::vector<std::pair<std::string, std::unique_ptr<Process>*>> workers{
      {"ingest", &ingest}, {"sync", &sync}, {"cache", &cache}, {"notify", &notify}};
  {
    // The compose file's jobs and labels, with this test's addresses and a 1 s interval.
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
        << "rule_files: [\"" << compose_dir() << "/prometheus/alerts.yml\"]\n"
        << "scrape_configs:\n  - job_name: anipipe-workers\n    static_configs:\n";
    for (const auto& [name, process] : workers) {
      const int port = metrics_port(**process);
      REQUIRE_MESSAGE(port > 0, name);
      cfg << "      - { targets: [\"127.0.0.1:" << port << "\"], labels: { worker: " << name << " } }\n";
    }
    cfg << "  - job_name: anipipe-edge\n    static_configs:\n      - { targets: [\"127.0.0.1:" << edge_port
        << "\"], labels: { worker: edge } }\n"
        << "  - job_name: anipipe-ops\n    static_configs:\n      - { targets: [\"127.0.0.1:" << ops_port
        << "\"], labels: { worker: ops } }\n";
  }
  const int port = free_port();
  Process prometheus({"/usr/bin/env", "prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                     dir + "/prometheus.log");
  INFO(prometheus.log_tail());
  REQUIRE(eventually([&] { return raw_http(port, http_request("GET", "/-/ready")).status == 200; }, 60s));

  // Every target up.
  std::string error;
  REQUIRE(eventually([&] { return series_count(port, R"(up{job=~"anipipe-.*"} == 1)", error) == 6; }, 30s));

  // Every query of the dashboard.
  simdjson::dom::parser parser;
  simdjson::dom::element dashboard;
  REQUIRE(!parser.load(compose_dir() + "/grafana/dashboards/anipipe.json").get(dashboard));
  std::vector<std::pair<std::string, std::string>> queries;  // (where, query)
  for (simdjson::dom::element panel : simdjson::dom::array(dashboard["panels"])) {
    simdjson::dom::array targets;
    if (panel["targets"].get(targets)) continue;  // a row
    for (simdjson::dom::element t : targets)
      queries.emplace_back("panel \"" + std::string(std::string_view(panel["title"])) + "\"", std::string(std::string_view(t["expr"])));
  }
  CHECK(queries.size() >= 20);
  // Every alert, as Prometheus loaded it (healthy), by the quantity it watches.
  const auto rules = prometheus_get(port, "/api/v1/rules");
  INFO(rules.output);
  simdjson::dom::parser rules_parser;
  simdjson::dom::element loaded;
  REQUIRE(!rules_parser.parse(rules.output).get(loaded));
  int alerts = 0;
  for (simdjson::dom::element group : simdjson::dom::array(loaded["data"]["groups"]))
    for (simdjson::dom::element rule : simdjson::dom::array(group["rules"])) {
      const auto name = std::string(std::string_view(rule["name"]));
      CHECK_MESSAGE(std::string_view(rule["health"]) != "err", name);
      queries.emplace_back("alert " + name, measured(std::string(std::string_view(rule["query"]))));
      ++alerts;
    }
  CHECK(alerts == 8);
  // Rates need two samples in their window: a few seconds of scrapes.
  for (const auto& [where, query] : queries) {
    int n = 0;
    eventually([&] { return (n = series_count(port, query, error)) > 0; }, 30s);
    CHECK_MESSAGE(n > 0, where << ": " << query << " returned " << (n < 0 ? error : "nothing"));
  }

  prometheus.signal(SIGTERM);
  CHECK(exit_problem(prometheus, 30s) == "");
  ops.signal(SIGTERM);
  for (auto* w : {&ingest, &sync, &cache, &notify, &edge}) (*w)->signal(SIGTERM);
  for (auto* w : {&ingest, &sync, &cache, &notify, &edge}) CHECK(exit_problem(**w, 40s) == "");
  CHECK(exit_problem(ops, 30s) == "");
}
