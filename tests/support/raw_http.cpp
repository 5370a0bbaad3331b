#include "raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace anipipe::testing {

std::string http_request(const std::string& method, const std::string& target, const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) r += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "DELETE") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

int connect_from(int port, const std::string& source, int rcvbuf) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  // Before connect: the window the client advertises is set by then.
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  for (std::size_t sent = 0; sent < data.size();) {
    const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

Drained drain(int fd, std::chrono::milliseconds timeout) {
  Drained out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      out.closed = true;
      break;
    }
    out.data.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

RawResponse raw_http(int port, const std::string& request, const std::string& source) {
  RawResponse out;
  const int fd = connect_from(port, source);
  if (fd < 0) return out;
  send_all(fd, request);
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t header_end = std::string::npos, want = std::string::npos;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string lower = data.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) want = header_end + 4 + std::stoul(lower.substr(cl + 17));
    }
    if (want != std::string::npos && data.size() >= want) break;
  }
  ::close(fd);
  if (header_end == std::string::npos || data.compare(0, 9, "HTTP/1.1 ") != 0) return out;
  out.status = std::atoi(data.c_str() + 9);
  std::size_t line = data.find("\r\n") + 2;
  while (line < header_end) {
    const auto end = data.find("\r\n", line);
    const auto colon = data.find(':', line);
    if (colon != std::string::npos && colon < end) {
      std::string name = data.substr(line, colon - line);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = data.substr(colon + 1, end - colon - 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers[name] = value;
    }
    line = end + 2;
  }
  out.body = data.substr(header_end + 4);
  return out;
}

}  // namespace anipipe::testing
