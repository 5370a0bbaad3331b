#include "ws_session.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

#include <deque>

#include "edge_metrics.hpp"
#include "http/query.hpp"
#include "json/json_writer.hpp"
#include "kafka_recovery.hpp"
#include "resume_gate.hpp"

namespace anipipe::edge {

namespace {

/// The gate's stream of the user's notifications (a title's stream is its id, never 0).
constexpr std::int64_t kNotifications = 0;

/// notifications_since=<position> on the upgrade's URL: nullopt if absent; `bad` if not a position.
std::optional<StreamPosition> notifications_since(std::string_view target, bool& bad) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  const auto pairs = anipipe::http::parse_query(target.substr(q + 1));
  if (!pairs) return std::nullopt;
  for (const auto& [k, v] : *pairs)
    if (k == "notifications_since") {
      auto p = parse_position(v);
      bad = !p;
      return p;
    }
  return std::nullopt;
}

// One WebSocket connection: subscribe_title / unsubscribe_title in, pushes out.
class WsSession : public LiveSink, public std::enable_shared_from_this<WsSession> {
public:
  WsSession(tcp::socket&& socket, const ServerSettings& settings, LiveHub& hub, std::optional<std::string> user, std::shared_ptr<void> slot,
            EdgeMetrics* metrics)
      : ws_(std::move(socket)), settings_(settings), hub_(hub), user_(std::move(user)), slot_(std::move(slot)), metrics_(metrics) {
    if (metrics_) metrics_->websocket_opened();
  }

  ~WsSession() override {
    if (id_) hub_.remove(id_);
    if (metrics_) metrics_->websocket_closed();
  }

  void start(const http::request<http::string_body>& req) {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = settings_.ws_idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(64 * 1024);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) { res.set(http::field::server, "anipipe-edge"); }));
    const auto since = user_ ? notifications_since(std::string_view(req.target().data(), req.target().size()), bad_since_) : std::nullopt;
    id_ = hub_.add(weak_from_this(), user_, since, &notifications_);
    // The user's pushes wait for the welcome (and a replay, if any) to go first.
    if (user_) notifications_ticket_ = gate_.open(kNotifications, since ? since->offset : -1, true);
    notifications_since_ = since;
    ws_.async_accept(req, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  void push(Push push) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), push = std::move(push)]() mutable { self->on_push(std::move(push)); });
  }

private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    std::string hello;
    json::Writer w(hello);
    w.begin_object().field("type", "welcome").field("user", user_);
    if (user_ && notifications_.position) w.field("notifications_position", to_string(*notifications_.position));
    w.end_object();
    enqueue(std::make_shared<const std::string>(std::move(hello)));
    if (bad_since_) reply("error", std::nullopt, "notifications_since must be a position from a notification (or the welcome)");
    if (user_) resume(kNotifications, notifications_ticket_, notifications_since_, notifications_.recovery, notifications_.position);
    read();
  }

  void on_push(Push push) {
    const auto stream = push.stream == Stream::titles ? push.title_id : kNotifications;
    for (auto& m : gate_.live(stream, push.offset, std::move(push.message))) enqueue(std::move(m));
    if (gate_.held() > settings_.ws_queue_max) drop("held back during a replay");
  }

  /// Answers a `since`: from memory at once, from Kafka on a recovery thread, or a gap. Live pushes
  /// of the stream are held by the gate until then. No since: the held pushes go on.
  void resume(std::int64_t stream, std::uint64_t ticket, std::optional<StreamPosition> since, const std::optional<RecoveryPlan>& plan,
              std::optional<StreamPosition> position) {
    if (!since || !plan) return finish(stream, ticket, {}, {}, {}, position);
    if (plan->kind == RecoveryPlan::Kind::memory) return finish(stream, ticket, "memory", plan->replay, {}, position);
    auto* recovery = hub_.recovery();
    if (plan->kind == RecoveryPlan::Kind::gap || !recovery)
      return finish(stream, ticket, "memory", {}, recovery ? plan->gap_reason : "unavailable", position);
    const auto key = stream == kNotifications ? *user_ : std::to_string(stream);
    recovery->fetch(stream == kNotifications ? Stream::notifications : Stream::titles, key, *since, *plan,
                    [self = shared_from_this(), stream, ticket, position](KafkaRecovery::Result r) {
                      asio::post(self->ws_.get_executor(), [self, stream, ticket, position, r = std::move(r)] {
                        self->finish(stream, ticket, "kafka", r.records, r.gap_reason, position);
                      });
                    });
  }

  /// The replay (or the gap) goes out, then the pushes held meanwhile. source empty: nothing to say.
  void finish(std::int64_t stream, std::uint64_t ticket, std::string_view source, const std::vector<Replayed>& records,
              std::string_view gap, std::optional<StreamPosition> position) {
    auto released = gate_.release(stream, ticket, gap.empty() ? records : std::vector<Replayed>{});
    if (!released) return;  // unsubscribed, or subscribed again, meanwhile
    for (auto& m : released->replay) enqueue(std::move(m));
    if (!source.empty()) {
      std::string out;
      json::Writer w(out);
      w.begin_object().field("type", gap.empty() ? "recovered" : "recovery_gap");
      w.field("stream", stream == kNotifications ? "notifications" : "title");
      if (stream != kNotifications) w.field("title_id", stream);
      if (gap.empty()) w.field("replayed", static_cast<std::int64_t>(released->replay.size())).field("source", source);
      else w.field("reason", gap);
      if (position) w.field("position", to_string(*position));
      w.end_object();
      enqueue(std::make_shared<const std::string>(std::move(out)));
      if (metrics_ && gap.empty()) metrics_->recovered(source, static_cast<double>(released->replay.size()));
      if (metrics_ && !gap.empty()) metrics_->recovery_gap(gap);
    }
    for (auto& m : released->held) enqueue(std::move(m));
  }

  void read() { ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this())); }

  void reply(std::string_view type, std::optional<std::int64_t> title_id, std::string_view detail = {}) {
    std::string out;
    json::Writer w(out);
    w.begin_object().field("type", type);
    if (title_id) w.field("title_id", *title_id);
    if (!detail.empty()) w.field("detail", detail);
    w.end_object();
    enqueue(std::make_shared<const std::string>(std::move(out)));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;  // closed, timed out (no pong), or too large: the session ends
    const auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    simdjson::dom::element doc;
    std::string_view type;
    std::int64_t title_id = 0;
    if (parser_.parse(text).get(doc) || doc["type"].get(type)) {
      reply("error", std::nullopt, "messages are JSON objects with a type");
    } else if (type == "ping") {
      reply("pong", std::nullopt);
    } else if (type != "subscribe_title" && type != "unsubscribe_title") {
      reply("error", std::nullopt, "unknown type (subscribe_title, unsubscribe_title, ping)");
    } else if (doc["title_id"].get(title_id) || title_id < 1) {
      reply("error", std::nullopt, "title_id must be a positive integer");
    } else if (type == "subscribe_title") {
      subscribe(title_id, doc);
    } else {
      hub_.unsubscribe(id_, title_id);
      gate_.close(title_id);
      reply("unsubscribed", title_id);
    }
    read();
  }

  void subscribe(std::int64_t title_id, simdjson::dom::element doc) {
    std::optional<StreamPosition> since;
    if (simdjson::dom::element s; !doc["since"].get(s) && !s.is_null()) {
      std::string_view text;
      if (s.get(text) || !(since = parse_position(text)))
        return reply("error", title_id, "since must be a position from a push (or subscribed)");
    }
    // An anonymous connection costs nobody anything to open: it gets a smaller share.
    const auto most = user_ ? settings_.ws_max_subscriptions : settings_.ws_max_subscriptions_anonymous;
    auto joined = hub_.subscribe(id_, title_id, most, since);
    if (!joined.ok) return reply("error", title_id, "too many subscriptions on this connection (" + std::to_string(most) + ")");
    const auto ticket = gate_.open(title_id, since ? since->offset : -1, since.has_value());
    std::string out;
    json::Writer w(out);
    w.begin_object().field("type", "subscribed").field("title_id", title_id);
    if (joined.position) w.field("position", to_string(*joined.position));
    w.end_object();
    enqueue(std::make_shared<const std::string>(std::move(out)));
    if (since) resume(title_id, ticket, since, joined.recovery, joined.position);
  }

  void enqueue(std::shared_ptr<const std::string> message) {
    if (closing_) return;
    // A client that cannot keep up is dropped, not allowed to grow the queue.
    if (queue_.size() >= settings_.ws_queue_max) return drop("queued");
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) write();
  }

  void drop(std::string_view where) {
    if (closing_) return;
    closing_ = true;
    if (metrics_) metrics_->dropped_slow_client();
    spdlog::info("websocket client dropped: {} messages {}", where == "queued" ? queue_.size() : gate_.held(), where);
    hub_.remove(id_);
    ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, "too slow"),
                    [self = shared_from_this()](beast::error_code) {});
  }

  void write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()), beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    queue_.pop_front();
    if (!queue_.empty() && !closing_) write();
  }

  websocket::stream<beast::tcp_stream> ws_;
  const ServerSettings& settings_;
  LiveHub& hub_;
  std::optional<std::string> user_;
  LiveHub::Id id_ = 0;
  beast::flat_buffer buffer_;
  simdjson::dom::parser parser_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool closing_ = false;
  ResumeGate gate_;
  Joined notifications_;  // the user's stream as it was joined: its position and recovery plan
  std::optional<StreamPosition> notifications_since_;
  std::uint64_t notifications_ticket_ = 0;
  bool bad_since_ = false;
  std::shared_ptr<void> slot_;
  EdgeMetrics* metrics_;
};

}  // namespace

void start_websocket_session(tcp::socket&& socket, const http::request<http::string_body>& upgrade, const ServerSettings& settings,
                             LiveHub& hub, std::optional<std::string> user, std::shared_ptr<void> slot, EdgeMetrics* metrics) {
  std::make_shared<WsSession>(std::move(socket), settings, hub, std::move(user), std::move(slot), metrics)->start(upgrade);
}

}  // namespace anipipe::edge
