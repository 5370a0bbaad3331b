#pragma once
// One connection to redis-server (hiredis), for workers that keep Redis in step with a topic:
//  - commands are argv vectors (binary-safe: JSON values and glob patterns pass untouched);
//  - pipeline() sends a whole batch and reads every reply in one round trip;
//  - connect and command timeouts; an I/O error or timeout drops the connection and throws
//    redis::Unavailable, and the next call reconnects, so the caller's retry policy decides
//    what an outage means (cache pauses its partitions and retries the batch).
// Not thread-safe: one Client per thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace anipipe::redis {

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // AUTH when set
  int db = 0;
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};
  /// "redis://[:password@]host[:port][/db]" or "host:port".
  static Options parse(std::string_view url);
};

struct Reply {
  enum class Type { nil, string, status, integer, array, error };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;
  bool is_error() const { return type == Type::error; }
};

/// The server cannot be reached, or the connection broke mid-command.
class Unavailable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

using Command = std::vector<std::string>;
/// The same by reference, for commands whose arguments live elsewhere (megabytes of values).
using CommandView = std::vector<std::string_view>;

class Client {
public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Reply command(const Command& argv);
  /// Sends every command, then reads every reply (in order). Error replies are returned, not thrown.
  std::vector<Reply> pipeline(const std::vector<Command>& commands);
  std::vector<Reply> pipeline(const std::vector<CommandView>& commands);
  /// The next reply the server pushes (a subscribed connection's messages); Unavailable on timeout.
  Reply read();
  const Options& options() const { return options_; }

private:
  void ensure_connected();
  void drop();
  Reply read_reply();
  void send_all(std::string_view data);
  template <class Commands>
  std::vector<Reply> send_and_read(const Commands& commands);

  Options options_;
  struct ContextFree {
    void operator()(redisContext* c) const noexcept;
  };
  std::unique_ptr<redisContext, ContextFree> ctx_;
  std::string out_;  // the next pipeline's commands, encoded (reused)
};

}  // namespace anipipe::redis
