// WebSocket recovery anchored on Kafka (workers/edge/README.md, docs/websocket.md): every push
// carries a position; a client that comes back with `since` gets what it missed in order, then
// live, nothing twice at the seam: from the edge's in-memory history, or from Kafka by offset
// beyond it; and an explicit recovery_gap where neither can cover it (retention, a foreign epoch,
// the operator's bound). The same for a user's notification stream.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <thread>

#include "kafka/admin.hpp"
#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "raw_http.hpp"
#include "util/jwt.hpp"
#include "ws_client.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

std::string episode(std::int64_t title, int ordinal) {
  const auto t = std::to_string(title), o = std::to_string(ordinal);
  return R"({"event_id":")" + t + ":e" + o + R"(","title_id":)" + t + R"(,"episode":{"id":"e)" + o + R"(","ordinal":)" + o +
         R"(,"name":null},"title":{"alias":"t-)" + t + R"(","names":{"ru":"Тайтл )" + t + R"("}},"detected_at":"2025-01-16T08:20:01Z"})";
}

void publish(const std::string& topic, std::int64_t title, int first, int last) {
  std::vector<Produced> records;
  for (int o = first; o <= last; ++o) records.push_back({std::to_string(title), episode(title, o)});
  produce_all(topic, records);
}

/// One message as the tests look at it.
struct Msg {
  std::string type, position, reason, text;
  std::int64_t title_id = 0, ordinal = 0, replayed = -1;
};

Msg parse(const std::string& text) {
  Msg m;
  m.text = text;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(text).get(doc)) return m;
  std::string_view s;
  if (!doc["type"].get(s)) m.type = s;
  if (!doc["position"].get(s)) m.position = s;
  if (!doc["reason"].get(s)) m.reason = s;
  std::int64_t n = 0;
  if (!doc["title_id"].get(n)) m.title_id = n;
  if (!doc["replayed"].get(n)) m.replayed = n;
  if (!doc["data"]["episode"]["ordinal"].get(n)) m.ordinal = n;
  return m;
}

/// Messages until one of type `until` (included), or none for `quiet`.
std::vector<Msg> read_until(WsClient& ws, const std::string& until, std::chrono::milliseconds quiet = 10s) {
  std::vector<Msg> out;
  for (;;) {
    auto text = ws.next(quiet);
    if (text.empty()) return out;
    out.push_back(parse(text));
    if (out.back().type == until) return out;
  }
}

std::vector<std::int64_t> ordinals(const std::vector<Msg>& msgs, const std::string& type = "new_episode") {
  std::vector<std::int64_t> out;
  for (const auto& m : msgs)
    if (m.type == type) out.push_back(m.ordinal);
  return out;
}

std::string subscribe(std::int64_t title, const std::string& since = "") {
  return R"({"type":"subscribe_title","title_id":)" + std::to_string(title) + (since.empty() ? "" : R"(,"since":")" + since + "\"") + "}";
}

/// Subscribes and reads pushes of `title` until `count` of them came; returns the last position.
std::string live_pushes(WsClient& ws, const std::string& topic, std::int64_t title, int first, int last) {
  publish(topic, title, first, last);
  std::string position;
  for (int o = first; o <= last; ++o) {
    auto m = parse(ws.wait_for(R"("type":"new_episode")", 15s));
    REQUIRE(m.type == "new_episode");
    CHECK(m.ordinal == o);
    CHECK_FALSE(m.position.empty());
    position = m.position;
  }
  return position;
}

/// A client that subscribes, gets pushes first..last of title live and leaves: the last position.
std::string visit(int port, const std::string& topic, std::int64_t title, int first, int last) {
  WsClient ws(port, "/api/anilibria/v2/ws");
  ws.send(subscribe(title));
  REQUIRE_FALSE(ws.wait_for(R"("type":"subscribed")", 5s).empty());
  return live_pushes(ws, topic, title, first, last);
}

std::string metrics(int port) { return raw_http(port, http_request("GET", "/metrics")).body; }

}  // namespace

TEST_CASE("edge recovery: a client back with since gets the 5 it missed from memory, in order, then live, nothing twice at the seam") {
  Pipeline p;
  int port = 0;
  auto edge = p.start_edge("edge.log", port);
  INFO(edge->log_tail());
  const auto& topic = p.topics().new_episode;
  std::string position;
  {
    WsClient ws(port, "/api/anilibria/v2/ws");
    ws.send(subscribe(501));
    auto ack = parse(ws.wait_for(R"("type":"subscribed")", 5s));
    CHECK_FALSE(ack.position.empty());  // where the stream stands: a client with no push yet can come back from here
    position = live_pushes(ws, topic, 501, 1, 2);
  }
  publish(topic, 501, 3, 7);
  publish(topic, 502, 1, 3);        // another title, perhaps on the same partition: not replayed to 501
  std::this_thread::sleep_for(1s);  // the edge has them in memory by now
  WsClient ws(port, "/api/anilibria/v2/ws");
  ws.send(subscribe(501, position));
  auto got = read_until(ws, "recovered");
  REQUIRE(got.size() > 1);
  CHECK(got[0].type == "welcome");
  CHECK(got[1].type == "subscribed");
  CHECK(ordinals(got) == std::vector<std::int64_t>{3, 4, 5, 6, 7});
  CHECK(got.back().type == "recovered");
  CHECK(got.back().replayed == 5);
  publish(topic, 501, 8, 8);
  auto live = read_until(ws, "none", 3s);
  CHECK(ordinals(live) == std::vector<std::int64_t>{8});  // live goes on; no replayed one comes again
  CHECK(metrics(port).find("anipipe_edge_websocket_recovered_records_total{source=\"memory\"} 5") != std::string::npos);

  // A client that never got a push comes back from the position its subscribed message gave.
  WsClient fresh(port, "/api/anilibria/v2/ws");
  fresh.send(subscribe(501));
  const auto from = parse(fresh.wait_for(R"("type":"subscribed")", 5s)).position;
  publish(topic, 501, 9, 10);
  std::this_thread::sleep_for(1s);
  WsClient again(port, "/api/anilibria/v2/ws");
  again.send(subscribe(501, from));
  CHECK(ordinals(read_until(again, "recovered")) == std::vector<std::int64_t>{9, 10});
}

TEST_CASE("edge recovery: beyond the in-memory history (2 records) the missed episodes are read from Kafka by offset") {
  Pipeline::Options one_partition;
  one_partition.partitions = 1;  // every title on one partition: the history holds 2 of them
  Pipeline p(one_partition);
  int port = 0;
  auto edge = p.start_edge("edge.log", port, {"--ws-history-records", "2"});
  INFO(edge->log_tail());
  const auto& topic = p.topics().new_episode;
  const auto position = visit(port, topic, 601, 1, 2);
  publish(topic, 601, 3, 7);
  publish(topic, 602, 1, 4);  // pushes 601's out of the history
  std::this_thread::sleep_for(1s);
  WsClient ws(port, "/api/anilibria/v2/ws");
  ws.send(subscribe(601, position));
  publish(topic, 601, 8, 9);  // live while the replay is read: it must come after, once
  auto got = read_until(ws, "recovered", 15s);
  CHECK(ordinals(got) == std::vector<std::int64_t>{3, 4, 5, 6, 7});
  REQUIRE_FALSE(got.empty());
  CHECK(got.back().type == "recovered");
  auto rest = read_until(ws, "none", 3s);
  CHECK(ordinals(rest) == std::vector<std::int64_t>{8, 9});
  CHECK(metrics(port).find("anipipe_edge_websocket_recovered_records_total{source=\"kafka\"} 5") != std::string::npos);
}

TEST_CASE("edge recovery: recovery_gap past retention, for a foreign epoch and beyond --ws-recovery-max-records; live goes on") {
  Pipeline::Options one_partition;
  one_partition.partitions = 1;
  Pipeline p(one_partition);
  int port = 0;
  auto edge = p.start_edge("edge.log", port, {"--ws-history-records", "2", "--ws-recovery-max-records", "6"});
  INFO(edge->log_tail());
  const auto& topic = p.topics().new_episode;
  const auto position = visit(port, topic, 701, 1, 1);
  publish(topic, 701, 2, 9);  // 8 missed: more than the bound (6)
  std::this_thread::sleep_for(1s);
  // What a client back from `since` is told: nothing replayed, a gap with its reason.
  auto gap = [&](WsClient& ws, const std::string& since) {
    ws.send(subscribe(701, since));
    auto got = read_until(ws, "recovery_gap");
    REQUIRE_FALSE(got.empty());
    CHECK(got.back().type == "recovery_gap");
    CHECK(ordinals(got).empty());
    CHECK_FALSE(got.back().position.empty());  // where to resume from after refetching the title
    return got.back().reason;
  };
  {
    WsClient ws(port, "/api/anilibria/v2/ws");
    CHECK(gap(ws, position) == "bound");
  }
  {
    // A position of another cluster or topic (its epoch): nothing of this log can cover it.
    WsClient ws(port, "/api/anilibria/v2/ws");
    CHECK(gap(ws, "e00000000" + position.substr(position.find("-p"))) == "epoch");
  }
  {
    WsClient ws(port, "/api/anilibria/v2/ws");
    ws.send(subscribe(701, "not a position"));
    CHECK_FALSE(ws.wait_for(R"("type":"error")", 5s).empty());
  }
  // Retention: the records after the client's position are deleted from the log.
  std::string recent;
  {
    WsClient ws(port, "/api/anilibria/v2/ws");
    ws.send(subscribe(701));
    recent = parse(ws.wait_for(R"("type":"subscribed")", 5s)).position;
  }
  publish(topic, 701, 10, 12);
  publish(topic, 702, 1, 3);
  const auto marks = anipipe::kafka::Admin(test_kafka_settings()).watermarks(topic);
  anipipe::kafka::Admin(test_kafka_settings()).delete_records(topic, 0, marks.at(0).second - 1);
  std::this_thread::sleep_for(1s);
  WsClient ws(port, "/api/anilibria/v2/ws");
  CHECK(gap(ws, recent) == "retention");
  publish(topic, 701, 13, 13);
  CHECK(ordinals(read_until(ws, "none", 3s)) == std::vector<std::int64_t>{13});
  const auto m = metrics(port);
  CHECK(m.find("anipipe_edge_websocket_recovery_gaps_total{reason=\"retention\"} 1") != std::string::npos);
  CHECK(m.find("anipipe_edge_websocket_recovery_gaps_total{reason=\"bound\"} 1") != std::string::npos);
}

TEST_CASE("edge recovery: a user's notification stream resumes from notifications_since on the WebSocket URL") {
  Pipeline p;
  int port = 0;
  auto edge = p.start_edge("edge.log", port);
  INFO(edge->log_tail());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto token = anipipe::util::sign_hs256(R"({"sub":"user-7","scope":"user","exp":)" + std::to_string(now + 600) + "}",
                                               kEdgeUserSecret);
  auto note = [&](int n) { return Produced{"user-7", R"({"n":)" + std::to_string(n) + "}"}; };
  std::string position;
  {
    WsClient ws(port, "/api/anilibria/v2/ws?token=" + token);
    const auto welcome = ws.wait_for(R"("type":"welcome")", 5s);
    CHECK(welcome.find("notifications_position") != std::string::npos);
    produce_all(p.topics().notifications, {note(1)});
    position = parse(ws.wait_for(R"("type":"notification")", 15s)).position;
    REQUIRE_FALSE(position.empty());
  }
  produce_all(p.topics().notifications, {note(2), note(3), {"user-8", R"({"n":99})"}, note(4)});
  std::this_thread::sleep_for(1s);
  WsClient ws(port, "/api/anilibria/v2/ws?token=" + token + "&notifications_since=" + position);
  auto got = read_until(ws, "recovered");
  std::vector<std::string> seen;
  std::string all;
  for (const auto& m : got) all += m.text + "\n";
  INFO(all);
  for (const auto& m : got)
    if (m.type == "notification") seen.push_back(m.text.substr(m.text.find(R"("data":)")));
  CHECK(seen == std::vector<std::string>{R"("data":{"n":2}})", R"("data":{"n":3}})", R"("data":{"n":4}})"});
}
