// anipipe-notify against the real broker, redis-server and a local webhook receiver: exactly the
// subscribed get a notification (subscriptions followed live), the webhook arrives signed, the
// Redis message arrives; a webhook sink down for a while gets every call once it is back while
// notifications keep flowing; a refused call is dead-lettered; a SIGKILL mid-fan-out ends with
// every subscriber notified and duplicates carrying the same idempotency key. Seed 001's contract
// with a Node.js receiver written to it (tests/node/notify_receiver.js): a bearer token (static or
// an HS256 JWT per call) and the seed's body; a refused token is retried until accepted; a title
// change reaches the back end as title_updated (webhook and Redis), the same document again does not.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <simdjson.h>

#include "kafka/admin.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"
#include "redis_listener.hpp"
#include "util/clock.hpp"
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

/// An anilibria.new_episode value in the seed's terms: ordinal `episode`, and a name or none.
std::string episode_json(std::int64_t title, int episode, const std::optional<std::string>& name) {
  const auto t = std::to_string(title), e = std::to_string(episode);
  return R"({"event_id":")" + t + ":ep" + e + R"(","title_id":)" + t + R"(,"episode":{"id":"ep)" + e + R"(","ordinal":)" + e +
         R"(,"name":)" + (name ? "\"" + *name + "\"" : "null") + R"(},"title":{"alias":"title-)" + t + R"(","names":{"ru":"Тайтл )" + t +
         R"("}},"detected_at":"2025-01-16T08:20:0)" + e + R"(Z"})";
}

/// An anilibria.titles document; `description` tells versions apart.
std::string title_doc(std::int64_t title, const std::string& description) {
  const auto t = std::to_string(title);
  return R"({"id":)" + t + R"(,"alias":"title-)" + t + R"(","names":{"ru":"Тайтл )" + t +
         R"(","en":null,"alternative":null},)"
         R"("type":"TV","year":2025,"season":"winter","status":"ongoing","genres":["Драма"],"description":")" +
         description +
         R"(","poster":null,"episodes_total":null,"episodes":[{"id":"ep1","ordinal":1,"name":"Серия"}],"fresh_at":null,)"
         R"("updated_at":"2025-01-16T08:20:00Z","source":"v1"})";
}

Produced subscribe(std::int64_t title, const std::string& who, const std::string& channels = "") {
  const auto t = std::to_string(title);
  return {t + ":" + who,
          R"({"title_id":)" + t + R"(,"subscriber_id":")" + who + "\"" + (channels.empty() ? "" : R"(,"channels":)" + channels) + "}"};
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
              channel = unique_name("notify-channel"), dir = make_temp_dir("notify"), secret = "test-secret-" + unique_name("s"),
              titles = unique_name("notify-titles"), title_channel = unique_name("notify-title-channel");
  explicit NotifySetup(int episode_partitions = 3) {
    create_topic(episodes, episode_partitions);
    create_topic(titles, episode_partitions, {{"cleanup.policy", "compact"}});
    create_topic(subscriptions, 3, {{"cleanup.policy", "compact"}});
    create_topic(notifications, 3);
    create_topic(dlq, 1);
  }
  std::unique_ptr<Process> start(const std::string& log, const std::string& webhook_url, std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv{notify_binary(),
                                  "--brokers",
                                  test_kafka_settings().brokers,
                                  "--group",
                                  group,
                                  "--new-episode-topic",
                                  episodes,
                                  "--subscriptions-topic",
                                  subscriptions,
                                  "--notifications-topic",
                                  notifications,
                                  "--dlq-topic",
                                  dlq,
                                  "--metrics-addr",
                                  "off",
                                  "--redis-url",
                                  "redis://127.0.0.1:" + std::to_string(test_redis_options().port),
                                  "--redis-channel",
                                  channel,
                                  "--webhook-url",
                                  webhook_url,
                                  "--webhook-secret",
                                  secret,
                                  "--retry-backoff-max-ms",
                                  "1000",
                                  "--breaker-open-ms",
                                  "1000",
                                  "--kafka",
                                  "session.timeout.ms=6000",
                                  "--titles-topic",
                                  titles,
                                  "--title-redis-channel",
                                  title_channel};
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
  produce_all(s.subscriptions, {subscribe(a, "u1", R"(["topic"])"),
                                subscribe(a, "u2"),
                                subscribe(a, "u3"),
                                subscribe(b, "u4"),
                                unsubscribe(a, "u3"),
                                {"garbage", "not a subscription"}});
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
  CHECK(receiver.calls().size() == 2);                  // and each refused call was made once
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
      s.notifications,
      [](const std::vector<Received>& r) { return std::any_of(r.begin(), r.end(), [](const Received& x) { return x.key == "solo"; }); },
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

namespace {

/// The seed's body for episode_json(title, episode, name), to the byte (keys in the seed's order).
std::string seed_body(std::int64_t title, int episode, const std::optional<std::string>& name) {
  const auto t = std::to_string(title), e = std::to_string(episode);
  return R"({"type":"new_episode","title_id":)" + t + R"(,"episode":)" + e + R"(,"data":{"title":"Тайтл )" + t + R"(","episode_name":)" +
         (name ? "\"" + *name + "\"" : "null") + R"(},"timestamp":"2025-01-16T08:20:0)" + e + R"(Z"})";
}

std::vector<SeedCall> accepted(const std::vector<SeedCall>& calls) {
  std::vector<SeedCall> out;
  std::copy_if(calls.begin(), calls.end(), std::back_inserter(out), [](const SeedCall& c) { return c.status == 200; });
  return out;
}

/// Three episodes of `title` (one without a name): as produced, and as the seed's body each
/// should arrive in, by the Idempotency-Key (the episode's event id) it should arrive with.
struct ThreeEpisodes {
  std::vector<Produced> records;
  std::map<std::string, std::string> body_by_key;
  explicit ThreeEpisodes(std::int64_t title) {
    for (int e = 1; e <= 3; ++e) {
      const auto name = e == 2 ? std::nullopt : std::optional<std::string>("Серия " + std::to_string(e));
      records.push_back({std::to_string(title), episode_json(title, e, name)});
      body_by_key[std::to_string(title) + ":ep" + std::to_string(e)] = seed_body(title, e, name);
    }
  }
};

/// The calls the receiver accepted: each episode exactly once, in the seed's body, authenticated by
/// `auth` and still signed.
void check_each_once(const std::vector<SeedCall>& ok, const ThreeEpisodes& episodes, const std::string& auth) {
  std::map<std::string, std::string> body_by_key;
  for (const auto& c : ok) {
    CHECK_MESSAGE(body_by_key.emplace(c.idempotency_key, c.body).second, "twice: " << c.idempotency_key);
    CHECK(c.auth == auth);
    CHECK(c.hmac_ok);  // the signature comes in addition to the token
  }
  CHECK(body_by_key == episodes.body_by_key);
}

}  // namespace

TEST_CASE(
    "notify: seed 001 contract, static token - a wrong token is retried, not skipped; once accepted, each episode arrives once in the seed's body") {
  NotifySetup s;
  SeedReceiver receiver(s.dir, {.tokens = {"the-back-end-token"}, .jwt_secret = {}}, s.secret);
  const auto a = fresh_title();
  const ThreeEpisodes episodes(a);
  produce_all(s.subscriptions, {subscribe(a, "u1")});
  auto notify = s.start("notify.log", receiver.url(), {"--webhook-format", "seed001", "--webhook-token", "notify-old-token"});
  INFO(notify->log_tail());
  produce_all(s.episodes, episodes.records);

  // Refused (401) and tried again with the batch; the topic channel flows meanwhile, nothing is dead.
  CHECK(consume(s.notifications, 3, 30s).size() == 3);
  REQUIRE(eventually([&] { return receiver.calls().size() >= 9; }, 30s));  // three rounds at least
  for (const auto& c : receiver.calls()) {
    CHECK(c.status == 401);
    CHECK(c.error == "Invalid internal service token");
  }
  CHECK(consume(s.dlq, 1, 2s).empty());
  CHECK(notify->wait_for(0ms) == std::nullopt);

  // The back end rotates to accept notify's token: every episode arrives, once, in the seed's body.
  receiver.accept({.tokens = {"the-back-end-token", "notify-old-token"}, .jwt_secret = {}});
  REQUIRE(eventually([&] { return accepted(receiver.calls()).size() >= 3; }, 30s));
  std::this_thread::sleep_for(2s);
  check_each_once(accepted(receiver.calls()), episodes, "static");
  CHECK(consume(s.dlq, 1, 2s).empty());
  CHECK(consume(s.notifications, 4, 3s).size() == 3);  // the retries repeated only the webhook
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}

TEST_CASE(
    "notify: seed 001 contract, JWT - a token signed with the wrong secret is retried; restarted with the right one, each episode arrives once") {
  NotifySetup s;
  const std::string jwt_secret = "jwt-" + unique_name("secret");
  SeedReceiver receiver(s.dir, {.tokens = {}, .jwt_secret = jwt_secret}, s.secret);
  const auto a = fresh_title();
  const ThreeEpisodes episodes(a);
  const std::vector<std::string> seed{"--webhook-format", "seed001", "--webhook-jwt-ttl-s", "60"};
  auto with_secret = [&](const std::string& secret) {
    auto args = seed;
    args.insert(args.end(), {"--webhook-jwt-secret", secret});
    return args;
  };
  auto notify = s.start("notify-1.log", receiver.url(), with_secret("not-the-secret"));
  INFO(notify->log_tail());
  produce_all(s.episodes, episodes.records);
  REQUIRE(eventually([&] { return receiver.calls().size() >= 6; }, 30s));
  for (const auto& c : receiver.calls()) {
    CHECK(c.status == 401);
    CHECK(c.error.find("bad JWT signature") != std::string::npos);
  }
  CHECK(consume(s.dlq, 1, 2s).empty());
  notify->signal(SIGTERM);
  REQUIRE(exit_problem(*notify, 30s) == "");

  // Nothing was skipped: the same group, restarted with the right secret, delivers all three.
  auto fixed = s.start("notify-2.log", receiver.url(), with_secret(jwt_secret));
  INFO(fixed->log_tail());
  REQUIRE(eventually([&] { return accepted(receiver.calls()).size() >= 3; }, 60s));
  std::this_thread::sleep_for(2s);
  const auto ok = accepted(receiver.calls());
  check_each_once(ok, episodes, "jwt");
  const auto now = anipipe::util::now_unix_ms() / 1000;
  for (const auto& c : ok) {
    CHECK(c.jwt_iss == "anipipe-notify");
    CHECK(c.jwt_service == "anipipe-notify");
    CHECK(c.jwt_exp - c.jwt_iat == 60);  // short-lived, signed per call
    CHECK(std::abs(c.jwt_iat - now) < 120);
  }
  CHECK(consume(s.dlq, 1, 2s).empty());
  fixed->signal(SIGTERM);
  CHECK(exit_problem(*fixed, 30s) == "");
}

TEST_CASE("notify: the anipipe body is refused (400) by a back end written to seed 001 - dead-lettered, not retried") {
  NotifySetup s;
  SeedReceiver receiver(s.dir, {.tokens = {"tok"}, .jwt_secret = {}}, s.secret);
  const auto a = fresh_title();
  auto notify = s.start("notify.log", receiver.url(), {"--webhook-format", "anipipe", "--webhook-token", "tok"});
  INFO(notify->log_tail());
  produce_all(s.episodes, {{std::to_string(a), episode_json(a, 1, "Серия 1")}});
  const auto dead = consume(s.dlq, 1, 30s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].headers.at("dlq-error").find("refused the call (HTTP 400") != std::string::npos);
  REQUIRE(receiver.calls().size() == 1);
  CHECK(receiver.calls()[0].error == "new_episode has other keys");
  notify->signal(SIGTERM);
  CHECK(exit_problem(*notify, 30s) == "");
}

TEST_CASE(
    "notify: a title change reaches the back end as title_updated (webhook, Redis); the same document again does not, nor after a restart") {
  NotifySetup s;
  SeedReceiver receiver(s.dir, {.tokens = {"tok"}, .jwt_secret = {}}, s.secret);
  ChannelListener redis(s.title_channel, 2);
  const auto a = fresh_title();
  const std::vector<std::string> seed{"--webhook-format", "seed001", "--webhook-token", "tok"};
  auto notify = s.start("notify-1.log", receiver.url(), seed);
  INFO(notify->log_tail());
  const std::string key = std::to_string(a);
  // The title's first document is what the back end already has; then it changes; then the same
  // document comes again (a redelivered or replayed write): one title_updated.
  produce_all(s.titles, {{key, title_doc(a, "v1")}, {key, title_doc(a, "v2")}, {key, title_doc(a, "v2")}});
  REQUIRE(eventually([&] { return !accepted(receiver.calls()).empty(); }, 30s));
  std::this_thread::sleep_for(3s);
  auto ok = accepted(receiver.calls());
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].type == "title_updated");
  CHECK(ok[0].body.starts_with(R"({"type":"title_updated","title_id":)" + key + R"(,"timestamp":")"));
  CHECK(ok[0].body.find("data") == std::string::npos);  // seed 003's three keys, no more
  CHECK(ok[0].idempotency_key.starts_with("title_updated:" + key + ":"));
  CHECK(ok[0].hmac_ok);
  CHECK(redis.count() == 1);

  // A restart rebuilds what it knew from the catalog: v2 again is no news, v3 is.
  notify->signal(SIGTERM);
  REQUIRE(exit_problem(*notify, 30s) == "");
  auto restarted = s.start("notify-2.log", receiver.url(), seed);
  INFO(restarted->log_tail());
  produce_all(s.titles, {{key, title_doc(a, "v2")}, {key, title_doc(a, "v3")}});
  REQUIRE(eventually([&] { return accepted(receiver.calls()).size() >= 2; }, 60s));
  std::this_thread::sleep_for(3s);
  ok = accepted(receiver.calls());
  REQUIRE(ok.size() == 2);
  CHECK(ok[1].type == "title_updated");
  CHECK(ok[1].idempotency_key != ok[0].idempotency_key);  // a key per content
  REQUIRE(eventually([&] { return redis.count() >= 2; }, 10s));
  for (const auto& m : redis.messages()) {
    CHECK(m.find(R"("type":"title_updated")") != std::string::npos);
    CHECK(m.find(R"("title_id":)" + key) != std::string::npos);
  }
  CHECK(consume(s.dlq, 1, 2s).empty());
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}
