#include "ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <deque>

#include "edge_metrics.hpp"
#include "json/json_writer.hpp"

namespace anipipe::edge {

namespace {

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
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "anipipe-edge"); }));
    id_ = hub_.add(weak_from_this(), user_);
    ws_.async_accept(req, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  void push(std::shared_ptr<const std::string> message) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), message = std::move(message)]() mutable {
      self->enqueue(std::move(message));
    });
  }

private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    std::string hello;
    json::Writer w(hello);
    w.begin_object().field("type", "welcome").field("user", user_).end_object();
    enqueue(std::make_shared<const std::string>(std::move(hello)));
    read();
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
      // An anonymous connection costs nobody anything to open: it gets a smaller share.
      const auto most = user_ ? settings_.ws_max_subscriptions : settings_.ws_max_subscriptions_anonymous;
      if (hub_.subscribe(id_, title_id, most)) reply("subscribed", title_id);
      else reply("error", title_id, "too many subscriptions on this connection (" + std::to_string(most) + ")");
    } else {
      hub_.unsubscribe(id_, title_id);
      reply("unsubscribed", title_id);
    }
    read();
  }

  void enqueue(std::shared_ptr<const std::string> message) {
    if (closing_) return;
    if (queue_.size() >= settings_.ws_queue_max) {
      // A client that cannot keep up is dropped, not allowed to grow the queue.
      closing_ = true;
      if (metrics_) metrics_->dropped_slow_client();
      spdlog::info("websocket client dropped: {} messages queued", queue_.size());
      hub_.remove(id_);
      ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, "too slow"),
                      [self = shared_from_this()](beast::error_code) {});
      return;
    }
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) write();
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
  std::shared_ptr<void> slot_;
  EdgeMetrics* metrics_;
};

}  // namespace

void start_websocket_session(tcp::socket&& socket, const http::request<http::string_body>& upgrade, const ServerSettings& settings, LiveHub& hub,
                             std::optional<std::string> user, std::shared_ptr<void> slot, EdgeMetrics* metrics) {
  std::make_shared<WsSession>(std::move(socket), settings, hub, std::move(user), std::move(slot), metrics)->start(upgrade);
}

}  // namespace anipipe::edge
