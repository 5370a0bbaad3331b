#include "pipeline.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "kafka/topic_reader.hpp"
#include "raw_http.hpp"
#include "redis_listener.hpp"

namespace anipipe::testing {

namespace {
/// The defaults (argv[0], then flag-value pairs) with `extra` added; a flag given in extra replaces
/// the default's pair (CLI11 refuses an option given twice).
std::vector<std::string> with(std::vector<std::string> defaults, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{defaults.front()};
  for (std::size_t i = 1; i + 1 < defaults.size(); i += 2)
    if (std::find(extra.begin(), extra.end(), defaults[i]) == extra.end()) argv.insert(argv.end(), {defaults[i], defaults[i + 1]});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}
}  // namespace

Pipeline::Pipeline(Options options) : options_(options), dir_(make_temp_dir("pipeline")) {
  topics_ = {unique_name("p-events"),        unique_name("p-requests"),      unique_name("p-titles"),
             unique_name("p-new-episode"),   unique_name("p-results"),       unique_name("p-invalidations"),
             unique_name("p-subscriptions"), unique_name("p-notifications"), unique_name("p-dlq")};
  for (const char* w : {"sync", "cache", "notify"}) groups_[w] = unique_name(std::string("p-") + w);
  const int n = options_.partitions;
  // As topics/topics.json has them: the three sync topics co-partitioned, the catalog and the
  // subscriptions compacted, what Node.js reads stored gzip.
  for (const auto& t : {topics_.events, topics_.requests, topics_.invalidations, topics_.notifications}) create_topic(t, n);
  for (const auto& t : {topics_.new_episode, topics_.results}) create_topic(t, n, {{"compression.type", "gzip"}});
  for (const auto& t : {topics_.titles, topics_.subscriptions}) create_topic(t, n, {{"cleanup.policy", "compact"}});
  create_topic(topics_.dlq, 1);
  upstream_ = std::make_unique<FakeUpstream>(dir_);
}

std::string Pipeline::redis_url() const {
  return "redis://127.0.0.1:" + std::to_string(test_redis_options().port) + "/" + std::to_string(std::max(0, options_.redis_db));
}

std::unique_ptr<Process> Pipeline::start_ingest(const std::string& log, const std::vector<std::string>& extra) const {
  return std::make_unique<Process>(
      with({ingest_binary(), "--brokers", test_kafka_settings().brokers, "--topic", topics_.events, "--dlq-topic", topics_.dlq,
            "--v1-base-url", upstream_->v1_base_url(), "--poll-interval-ms", "300", "--metrics-addr", "off", "--http-timeout-ms", "2000",
            "--http-retries", "1", "--breaker-open-ms", "1000"},
           extra),
      dir_ + "/" + log);
}

std::unique_ptr<Process> Pipeline::start_sync(const std::string& log, const std::vector<std::string>& extra) const {
  return std::make_unique<Process>(with({sync_binary(),
                                         "--brokers",
                                         test_kafka_settings().brokers,
                                         "--group",
                                         group("sync"),
                                         "--events-topic",
                                         topics_.events,
                                         "--requests-topic",
                                         topics_.requests,
                                         "--titles-topic",
                                         topics_.titles,
                                         "--new-episode-topic",
                                         topics_.new_episode,
                                         "--results-topic",
                                         topics_.results,
                                         "--dlq-topic",
                                         topics_.dlq,
                                         "--metrics-addr",
                                         "off",
                                         "--upstream-url",
                                         upstream_->v1_base_url(),
                                         "--retry-backoff-max-ms",
                                         "1000",
                                         "--breaker-open-ms",
                                         "1000"},
                                        extra),
                                   dir_ + "/" + log);
}

std::unique_ptr<Process> Pipeline::start_cache(const std::string& log, const std::vector<std::string>& extra) const {
  return std::make_unique<Process>(
      with({cache_binary(), "--brokers", test_kafka_settings().brokers, "--group", group("cache"), "--titles-topic", topics_.titles,
            "--invalidations-topic", topics_.invalidations, "--dlq-topic", topics_.dlq, "--metrics-addr", "off", "--redis-url", redis_url(),
            "--redis-timeout-ms", "1000", "--retry-backoff-max-ms", "1000"},
           extra),
      dir_ + "/" + log);
}

std::unique_ptr<Process> Pipeline::start_notify(const std::string& log, const std::vector<std::string>& extra) const {
  return std::make_unique<Process>(
      with({notify_binary(), "--brokers", test_kafka_settings().brokers, "--group", group("notify"), "--new-episode-topic",
            topics_.new_episode, "--subscriptions-topic", topics_.subscriptions, "--notifications-topic", topics_.notifications,
            "--dlq-topic", topics_.dlq, "--metrics-addr", "off", "--redis-url", "", "--retry-backoff-max-ms", "1000"},
           extra),
      dir_ + "/" + log);
}

std::unique_ptr<Process> Pipeline::start_edge(const std::string& log, int& port, const std::vector<std::string>& extra,
                                              bool wait_ready) const {
  auto edge = std::make_unique<Process>(with({edge_binary(),
                                              "--brokers",
                                              test_kafka_settings().brokers,
                                              "--listen",
                                              "127.0.0.1:0",
                                              "--service-secret",
                                              kEdgeServiceSecret,
                                              "--user-secret",
                                              kEdgeUserSecret,
                                              "--titles-topic",
                                              topics_.titles,
                                              "--new-episode-topic",
                                              topics_.new_episode,
                                              "--notifications-topic",
                                              topics_.notifications,
                                              "--sync-requests-topic",
                                              topics_.requests,
                                              "--sync-results-topic",
                                              topics_.results,
                                              "--subscriptions-topic",
                                              topics_.subscriptions,
                                              "--cache-invalidations-topic",
                                              topics_.invalidations,
                                              "--threads",
                                              "2"},
                                             extra),
                                        dir_ + "/" + log);
  port = listening_port(*edge, std::chrono::seconds(30));
  if (!port) throw std::runtime_error("the edge did not listen: " + edge->log_tail());
  if (wait_ready && !eventually([&] { return raw_http(port, http_request("GET", "/ready")).status == 200; }, std::chrono::seconds(60)))
    throw std::runtime_error("the edge did not get ready: " + edge->log_tail());
  return edge;
}

CommandResult Pipeline::ops(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{ops_binary(), "--brokers", test_kafka_settings().brokers};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, std::chrono::seconds(120));
}

std::vector<Announcement> Pipeline::announcements(std::chrono::milliseconds settle) const {
  if (settle.count() > 0) std::this_thread::sleep_for(settle);
  std::vector<Announcement> out;
  simdjson::dom::parser parser;
  kafka::read_to_end(test_kafka_settings(), topics_.new_episode, {}, kafka::ReadStart::from_earliest(), [&](const kafka::Message& m) {
    auto v = m.value();
    if (!v) return;
    simdjson::dom::element doc;
    if (parser.parse(*v).get(doc)) return;
    Announcement a;
    std::int64_t id = 0;
    double ordinal = 0;
    std::string_view episode_id, event_id;
    if (doc["title_id"].get_int64().get(id) || doc["episode"]["ordinal"].get_double().get(ordinal)) return;
    if (doc["episode"]["id"].get_string().get(episode_id)) episode_id = {};
    if (doc["event_id"].get_string().get(event_id)) event_id = {};
    a.title_id = id;
    a.ordinal = ordinal;
    a.episode_id = episode_id;
    a.event_id = event_id;
    a.partition = m.partition();
    a.offset = m.offset();
    a.timestamp_ms = m.timestamp_ms();
    out.push_back(std::move(a));
  });
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return std::pair(a.partition, a.offset) < std::pair(b.partition, b.offset); });
  return out;
}

std::vector<Announcement> Pipeline::announcements_until(const std::function<bool(const std::vector<Announcement>&)>& done,
                                                        std::chrono::milliseconds timeout) const {
  std::vector<Announcement> last;
  eventually(
      [&] {
        last = announcements(std::chrono::milliseconds(0));
        return done(last);
      },
      timeout);
  return last;
}

int listening_port(const Process& edge, std::chrono::milliseconds timeout) {
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  int port = 0;
  eventually(
      [&] {
        std::ifstream in(edge.log_file());
        std::string text((std::istreambuf_iterator<char>(in)), {});
        std::smatch m;
        if (!std::regex_search(text, m, listening)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      timeout);
  return port;
}

std::vector<double> ordinals_of(const std::vector<Announcement>& all, std::int64_t title_id) {
  std::vector<double> out;
  for (const auto& a : all)
    if (a.title_id == title_id) out.push_back(a.ordinal);
  return out;
}

std::map<std::pair<std::int64_t, double>, int> duplicates(const std::vector<Announcement>& all) {
  std::map<std::pair<std::int64_t, double>, int> counts, out;
  for (const auto& a : all) ++counts[{a.title_id, a.ordinal}];
  for (const auto& [k, n] : counts)
    if (n > 1) out[k] = n;
  return out;
}

}  // namespace anipipe::testing
