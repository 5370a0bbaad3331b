#pragma once
// A WebSocket client for integration tests: connect, send, read messages with a deadline.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <string>

namespace anipipe::testing {

class WsClient {
public:
  WsClient(int port, const std::string& target) {
    boost::asio::ip::tcp::resolver resolver(ioc_);
    boost::beast::get_lowest_layer(ws_).connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.handshake("127.0.0.1", target);
  }
  void send(const std::string& text) { ws_.write(boost::asio::buffer(text)); }
  /// The next message, whatever it is, or "" after timeout (or once the connection is closed).
  /// The deadline holds for asynchronous operations only, so the read is one: a read that timed
  /// out closes the connection (Beast's rule), so "" ends a client's use.
  std::string next(std::chrono::milliseconds timeout) {
    boost::beast::get_lowest_layer(ws_).expires_after(timeout);
    boost::beast::flat_buffer buffer;
    boost::beast::error_code ec;
    ws_.async_read(buffer, [&](boost::beast::error_code e, std::size_t) { ec = e; });
    ioc_.restart();
    ioc_.run();
    return ec ? std::string() : boost::beast::buffers_to_string(buffer.data());
  }
  /// The next message whose text contains `needle`, or "" after timeout.
  std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (text.empty()) return "";
      if (text.find(needle) != std::string::npos) return text;
    }
    return "";
  }

private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
};

}  // namespace anipipe::testing
