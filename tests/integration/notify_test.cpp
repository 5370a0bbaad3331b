// anipipe-notify against the real broker, redis-server and a local webhook receiver: exactly the
// subscribed get a notification (subscriptions followed live), the webhook arrives signed, the
// Redis message arrives; a webhook sink down for a while gets every call once it is back while
// notifications keep flowing; a refused call is dead-lettered; a SIGKILL mid-fan-out ends with
// every subscriber notified and duplicates carrying the same idempotency key.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <simdjson.h>

#include "kafka/admin.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"
#include "redis_listener.hpp"
#include "webhook_receiver.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

std::string episode_json(std::int64_t title, const std::string& episode) {
  const auto t = std::to_string(title);
  return R"({"event_id":")" + t + ":" + episode + R"(","title_id":)" + t + R"(,"episode":{"id":")" + episode +
         R"(","ordinal":1,"name":"Серия"},"title":{"alias":"title-)" + t + R"(","names":{"ru":"Тайтл )" + t +
         R"("}},"detected_at":"2025-01-16T08:20:01Z"})";
}

Produced subscribe(std::int64_t title, const std::string& who, const std::string& channels = "") {
  const auto t = std::to_string(title);
  return {t + ":" + who, R"({"title_id":)" + t + R"(,"subscriber_id":")" + who + "\"" +
                             (channels.empty() ? "" : R"(,"channels":)" + channels) + "}"};
}
Produced unsubscribe(std::int64_t title, const std::string& who) { return {std::to_string(title) + ":" + who, std::nullopt}; }

std::int64_t fresh_title() {
  std::random_device rd;
  return 1'000'000 + static_cast<std::int64_t>(rd() % 900'000'000);
}

struct Notification {
  std::string key, idempotency_key, subscriber, channels;
  std::int64_t title_id = 0;
  std::string traceparent;
};
std::vector<Notification> parse(const std::vector<Received>& records) {
  simdjson::dom::parser parser;
  std::vector<Notification> out;
  for (const auto& r : records) {
    simdjson::dom::element doc = parser.parse(*r.value);
    Notification n;
    n.key = r.key.value_or("");
    n.idempotency_key = std::string(std::string_view(doc["idempotency_key"]));
    n.subscriber = std::string(std::string_view(doc["subscriber_id"]));
    n.title_id = int64_t(doc["title_id"]);
    n.channels = simdjson::minify(doc["channels"]);
    auto it = r.headers.find("traceparent");
    if (it != r.headers.end()) n.traceparent = it->second;
    out.push_back(std::move(n));
  }
  return out;
}

struct NotifySetup {
  std::string episodes = unique_name("notify-episodes"), subscriptions = unique_name("notify-subs"),
              notifications = unique_name("notify-out"), dlq = unique_name("notify-dlq"), group = unique_name("notify-group"),
              channel = unique_name("notify-channel"), dir = make_temp_dir("notify"), secret = "test-secret-" + unique_name("s");
  explicit NotifySetup(int episode_partitions = 3) {
    create_topic(episodes, episode_partitions);
    create_topic(subscriptions, 3, {{"cleanup.policy", "compact"}});
    create_topic(notifications, 3);
    create_topic(dlq, 1);
  }
  std::unique_ptr<Process> start(const std::string& log, const std::string& webhook_url, std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv{notify_binary(), "--brokers", test_kafka_settings().brokers, "--group", group,
                                  "--new-episode-topic", episodes, "--subscriptions-topic", subscriptions, "--notifications-topic",
                                  notifications, "--dlq-topic", dlq, "--metrics-addr", "off", "--redis-url",
                                  "redis://127.0.0.1:" + std::to_string(test_redis_options().port), "--redis-channel", channel,
                                  "--webhook-url", webhook_url, "--webhook-secret", secret, "--retry-backoff-max-ms", "1000",
                                  "--breaker-open-ms", "1000", "--kafka", "session.timeout.ms=6000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(argv, dir + "/" + log);
  }
};

std::set<std::string> subscribers_of(const std::vector<Notification>& ns, std::int64_t title) {
  std::set<std::string> out;
  for (const auto& n : ns)
    if (n.title_id == title) out.insert(n.subscriber);
  return out;
}

std::vector<Produced> audience(std::int64_t title, int n) {
  std::vector<Produced> subs;
  subs.reserve(n);
  for (int i = 0; i < n; ++i) subs.push_back(subscribe(title, "user-" + std::to_string(i)));
  return subs;
}

std::int64_t records_in(anipipe::kafka::Admin& admin, const std::string& topic) {
  std::int64_t n = 0;
  for (const auto& [p, w] : admin.watermarks(topic)) n += w.second - w.first;
  return n;
}

// A small producer queue and a long linger make a 100k fan-out take seconds.
const std::vector<std::string> kSlowFanOut{"--queue-max", "500", "--kafka", "linger.ms=30"};

}  // namespace

TEST_CASE("notify: exactly the subscribed are notified, live unsubscribe and subscribe, signed webhook, Redis message") {
  NotifySetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  const auto a = fresh_title(), b = a + 1;
  produce_all(s.subscriptions, {subscribe(a, "u1", R"(["topic"])"), subscribe(a, "u2"), subscribe(a, "u3"), subscribe(b, "u4"),
                                unsubscribe(a, "u3"), {"garbage", "not a subscription"}});
  ChannelListener redis(s.channel, 2);
  auto notify = s.start("notify.log", receiver.url());
  INFO(notify->log_tail());

  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep1")}}, anipipe::kafka::EventHeaders::new_root("test"));
  auto first = parse(consume(s.notifications, 2, 30s));
  REQUIRE(first.size() == 2);
  CHECK(subscribers_of(first, a) == std::set<std::string>{"u1", "u2"});
  for (const auto& n : first) {
    CHECK(n.key == n.subscriber);
    CHECK(n.idempotency_key == std::to_string(a) + ":ep1:" + n.subscriber);
    CHECK(n.channels == (n.subscriber == "u1" ? R"(["topic"])" : R"(["topic","webhook","websocket"])"));
    CHECK(n.traceparent.size() == 55);
  }

  // Live: u1 leaves, u5 joins; published before the next episode, so it must see both.
  produce_all(s.subscriptions, {unsubscribe(a, "u1"), subscribe(a, "u5")});
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep2")}});
  std::vector<Notification> all;
  REQUIRE(eventually([&] { return (all = parse(consume(s.notifications, 4, 5s))).size() >= 4; }, 30s));
  std::set<std::string> second;
  for (const auto& n : all)
    if (n.idempotency_key.find(":ep2:") != std::string::npos) second.insert(n.subscriber);
  CHECK(second == std::set<std::string>{"u2", "u5"});

  // One signed call per episode, in the seeds' payload shape.
  REQUIRE(eventually([&] { return receiver.calls().size() >= 2; }, 30s));
  for (const auto& call : receiver.calls()) {
    CHECK(call.verified);
    CHECK(call.idempotency_key == call.event_id);
    CHECK(call.body.find(R"("type":"new_episode")") != std::string::npos);
    CHECK(call.body.find(R"("title_id":)" + std::to_string(a)) != std::string::npos);
  }
  // And one Redis message per episode for Socket.io.
  REQUIRE(eventually([&] { return redis.count() >= 2; }, 30s));
  for (const auto& m : redis.messages()) CHECK(m.find(R"("event_id":")" + std::to_string(a) + ":ep") != std::string::npos);

  // Nothing more arrives (b had no episode; u3 and u1 stay silent).
  std::this_thread::sleep_for(2s);
  CHECK(consume(s.notifications, 100, 3s).size() == 4);
  CHECK(receiver.calls().size() == 2);
  CHECK(consume(s.dlq, 1, 2s).empty());
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
  CHECK(notify->log_tail(100000).find("ignoring subscription") != std::string::npos);
}

TEST_CASE("notify: a webhook sink down for a while gets every call once it is back, notifications flow meanwhile") {
  NotifySetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  receiver.stop();  // down before the first episode
  const auto base = fresh_title();
  constexpr int kEpisodes = 20;
  std::vector<Produced> subs, episodes;
  for (int i = 0; i < kEpisodes; ++i) {
    subs.push_back(subscribe(base + i, "fan"));
    episodes.push_back({std::to_string(base + i), episode_json(base + i, "ep")});
  }
  produce_all(s.subscriptions, subs);
  auto notify = s.start("notify.log", receiver.url());
  INFO(notify->log_tail());
  produce_all(s.episodes, episodes);
  // The topic channel does not wait for the webhook.
  CHECK(consume(s.notifications, kEpisodes, 30s).size() == kEpisodes);
  std::this_thread::sleep_for(3s);  // several retries against the down sink
  CHECK(receiver.calls().empty());
  CHECK(notify->wait_for(0ms) == std::nullopt);

  receiver.start();
  REQUIRE(eventually([&] { return receiver.calls().size() >= kEpisodes; }, 60s));
  std::this_thread::sleep_for(2s);
  std::map<std::string, int> per_event;
  for (const auto& c : receiver.calls()) {
    CHECK(c.verified);
    ++per_event[c.event_id];
  }
  CHECK(per_event.size() == kEpisodes);
  for (const auto& [id, n] : per_event) CHECK_MESSAGE(n == 1, id);
  // The retries repeated only the webhook: still one notification per episode, nothing dead.
  CHECK(consume(s.notifications, kEpisodes + 1, 3s).size() == kEpisodes);
  CHECK(consume(s.dlq, 1, 2s).empty());
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}

TEST_CASE("notify: a webhook call the receiver refuses (4xx) is dead-lettered with the reason, the partition moves on") {
  NotifySetup s;
  WebhookReceiver receiver(s.dir, s.secret, 422);
  const auto a = fresh_title();
  produce_all(s.subscriptions, {subscribe(a, "u1")});
  auto notify = s.start("notify.log", receiver.url());
  INFO(notify->log_tail());
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep1")}, {std::to_string(a), episode_json(a, "ep2")}});
  auto dead = consume(s.dlq, 2, 30s);
  REQUIRE(dead.size() == 2);
  for (const auto& d : dead) {
    CHECK(d.headers.at("dlq-error").find("refused the call (HTTP 422") != std::string::npos);
    CHECK(d.headers.at("dlq-source-topic") == s.episodes);
  }
  CHECK(consume(s.notifications, 2, 15s).size() == 2);  // its other effects are done
  CHECK(receiver.calls().size() == 2);                   // and each refused call was made once
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}

TEST_CASE("notify: SIGKILL mid-fan-out to 100k subscribers - after a restart every one is notified, duplicates share the idempotency key") {
  NotifySetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  const auto a = fresh_title();
  constexpr int kSubscribers = 100'000;
  produce_all(s.subscriptions, audience(a, kSubscribers));
  auto notify = s.start("notify-1.log", receiver.url(), kSlowFanOut);
  INFO(notify->log_tail());
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep1")}});

  anipipe::kafka::Admin admin(test_kafka_settings());
  auto produced = [&] { return records_in(admin, s.notifications); };
  REQUIRE(eventually([&] { return produced() >= 5'000; }, 60s));
  notify->signal(SIGKILL);
  notify->wait_for(10s);
  const auto at_kill = produced();
  INFO("notifications when killed: " << at_kill);
  REQUIRE(at_kill < kSubscribers);  // really mid-fan-out

  auto restarted = s.start("notify-2.log", receiver.url());
  INFO(restarted->log_tail());
  REQUIRE(eventually([&] { return produced() >= at_kill + kSubscribers; }, 120s));
  const auto records = parse(consume(s.notifications, static_cast<std::size_t>(produced()), 60s));
  std::map<std::string, std::set<std::string>> keys_of;  // subscriber -> idempotency keys seen
  for (const auto& n : records) keys_of[n.subscriber].insert(n.idempotency_key);
  CHECK(keys_of.size() == kSubscribers);
  std::size_t bad = 0;
  for (const auto& [who, keys] : keys_of) bad += keys.size() != 1 || *keys.begin() != std::to_string(a) + ":ep1:" + who;
  CHECK(bad == 0);
  CHECK(records.size() > kSubscribers);  // the redelivered batch repeated what was sent before the kill
  REQUIRE(eventually([&] { return !receiver.calls().empty(); }, 30s));
  for (const auto& c : receiver.calls()) CHECK(c.idempotency_key == std::to_string(a) + ":ep1");
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}

TEST_CASE("notify: a title with 100k subscribers does not hold back another title's episode in the same batch") {
  NotifySetup s(1);  // one partition: both episodes in one batch, the small one behind the big one
  WebhookReceiver receiver(s.dir, s.secret);
  const auto big = fresh_title(), small = big + 1;
  constexpr int kSubscribers = 100'000;
  produce_all(s.subscriptions, audience(big, kSubscribers));
  produce_all(s.subscriptions, {subscribe(small, "solo")});
  produce_all(s.episodes, {{std::to_string(big), episode_json(big, "ep1")}, {std::to_string(small), episode_json(small, "ep1")}});
  auto notify = s.start("notify.log", receiver.url(), kSlowFanOut);
  INFO(notify->log_tail());
  anipipe::kafka::Admin admin(test_kafka_settings());
  // The small title's webhook call and its subscriber's notification come in the first round,
  // while most of the big audience is still waiting for its turn (with --round-size 1000000 this
  // fails: 100001 notifications are out before the small one).
  const auto seen = consume_until(
      s.notifications, [](const std::vector<Received>& r) {
        return std::any_of(r.begin(), r.end(), [](const Received& x) { return x.key == "solo"; });
      },
      60s);
  const auto when_small_arrived = records_in(admin, s.notifications);
  REQUIRE_FALSE(seen.empty());
  INFO("notifications when the small title's arrived: " << when_small_arrived);
  CHECK(when_small_arrived < kSubscribers / 2);
  CHECK(receiver.calls().size() == 2);
  REQUIRE(eventually([&] { return records_in(admin, s.notifications) >= kSubscribers + 1; }, 120s));
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}

TEST_CASE("notify: a webhook call failing with 500 is retried up to its budget, then dead-lettered, and the partition moves on") {
  NotifySetup s(1);
  WebhookReceiver receiver(s.dir, s.secret, 500);
  const auto a = fresh_title();
  produce_all(s.subscriptions, {subscribe(a, "u1")});
  auto notify = s.start("notify.log", receiver.url(), {"--webhook-max-attempts", "3"});
  INFO(notify->log_tail());
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep1")}});
  auto dead = consume(s.dlq, 1, 60s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].headers.at("dlq-error").find("the webhook failed (HTTP 500") != std::string::npos);
  CHECK(dead[0].headers.at("dlq-error").find("(3 attempts)") != std::string::npos);
  // 3 attempts, one call each; the notification went out once.
  CHECK(receiver.calls().size() == 3);
  CHECK(consume(s.notifications, 2, 5s).size() == 1);
  // The partition moved on: the next episode is handled (and dead-lettered the same way).
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, "ep2")}});
  CHECK(consume(s.dlq, 2, 60s).size() == 2);
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}
