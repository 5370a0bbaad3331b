#pragma once
// Plain HTTP/1.1 over a TCP socket for tests that must send what a well-behaved client would not
// (malformed targets, bad headers, oversized bodies) and see exactly what the server answers.
#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace anipipe::testing {

struct RawResponse {
  int status = 0;                              // 0: no HTTP answer (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

/// Sends `request` as-is to 127.0.0.1:port and reads the answer until the server closes the
/// connection or Content-Length bytes arrived (5 s at most). source: the client's own address, any
/// of 127.0.0.0/8 (one machine can be many clients).
RawResponse raw_http(int port, const std::string& request, const std::string& source = "127.0.0.1");

/// A TCP connection to 127.0.0.1:port from `source`, with a receive buffer of `rcvbuf` bytes if
/// given (a client that reads slowly); -1 if it cannot be made. The caller closes it.
int connect_from(int port, const std::string& source = "127.0.0.1", int rcvbuf = 0);
/// Sends all of data; false if the connection broke.
bool send_all(int fd, std::string_view data);
/// What the server sends on fd until it closes the connection or timeout passes; closed says which.
struct Drained {
  std::string data;
  bool closed = false;
};
Drained drain(int fd, std::chrono::milliseconds timeout);

/// A request with Connection: close and, when body is not empty, Content-Length.
std::string http_request(const std::string& method, const std::string& target, const std::map<std::string, std::string>& headers = {},
                         const std::string& body = {});

}  // namespace anipipe::testing
