#pragma once
// Plain HTTP/1.1 over a TCP socket for tests that must send what a well-behaved client would not
// (malformed targets, bad headers, oversized bodies) and see exactly what the server answers.
#include <map>
#include <string>

namespace anipipe::testing {

struct RawResponse {
  int status = 0;                              // 0: no HTTP answer (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

/// Sends `request` as-is to 127.0.0.1:port and reads the answer until the server closes the
/// connection or Content-Length bytes arrived (5 s at most).
RawResponse raw_http(int port, const std::string& request);

/// A request with Connection: close and, when body is not empty, Content-Length.
std::string http_request(const std::string& method, const std::string& target, const std::map<std::string, std::string>& headers = {},
                         const std::string& body = {});

}  // namespace anipipe::testing
