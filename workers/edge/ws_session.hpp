#pragma once
// The WebSocket side of the edge's port: http_server.cpp hands a connection over here once its
// request asks for the upgrade (and the upgrade is allowed).
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>

#include <memory>
#include <optional>
#include <string>

#include "http_server.hpp"
#include "live_hub.hpp"

namespace anipipe::edge {

// Boost's namespaces as the server's two files spell them.
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class EdgeMetrics;

/// Accepts the upgrade and serves subscriptions until the connection closes. slot: the connection's
/// place under the server's connection limits, held until then.
void start_websocket_session(tcp::socket&& socket, const http::request<http::string_body>& upgrade, const ServerSettings& settings,
                             LiveHub& hub, std::optional<std::string> user, std::shared_ptr<void> slot, EdgeMetrics* metrics);

}  // namespace anipipe::edge
