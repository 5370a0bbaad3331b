#include "redis/client.hpp"

#include <hiredis/hiredis.h>

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace anipipe::redis {

namespace {
timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = Reply::Type::nil; break;
  }
  return out;
}

struct ReplyFree {
  void operator()(redisReply* r) const noexcept {
    if (r) freeReplyObject(r);
  }
};
}  // namespace

void Client::ContextFree::operator()(redisContext* c) const noexcept {
  if (c) redisFree(c);
}

Options Options::parse(std::string_view url) {
  Options o;
  if (url.starts_with("redis://")) url.remove_prefix(8);
  if (auto at = url.rfind('@'); at != std::string_view::npos) {
    auto cred = url.substr(0, at);
    if (auto colon = cred.find(':'); colon != std::string_view::npos) cred.remove_prefix(colon + 1);
    o.password = std::string(cred);
    url.remove_prefix(at + 1);
  }
  if (auto slash = url.find('/'); slash != std::string_view::npos) {
    auto db = url.substr(slash + 1);
    if (!db.empty() && std::from_chars(db.data(), db.data() + db.size(), o.db).ec != std::errc())
      throw std::invalid_argument("redis URL: bad database number '" + std::string(db) + "'");
    url = url.substr(0, slash);
  }
  if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
    auto port = url.substr(colon + 1);
    if (std::from_chars(port.data(), port.data() + port.size(), o.port).ec != std::errc() || o.port <= 0 || o.port > 65535)
      throw std::invalid_argument("redis URL: bad port '" + std::string(port) + "'");
    url = url.substr(0, colon);
  }
  if (!url.empty()) o.host = std::string(url);
  return o;
}

Client::Client(Options options) : options_(std::move(options)) {}
Client::~Client() = default;

void Client::drop() { ctx_.reset(); }

void Client::ensure_connected() {
  if (ctx_) return;
  const auto tv = to_timeval(options_.connect_timeout);
  std::unique_ptr<redisContext, ContextFree> c(redisConnectWithTimeout(options_.host.c_str(), options_.port, tv));
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (!c) throw Unavailable("redis " + where + ": cannot allocate a connection");
  if (c->err) throw Unavailable("redis " + where + ": " + c->errstr);
  const auto ctv = to_timeval(options_.command_timeout);
  redisSetTimeout(c.get(), ctv);
  ctx_ = std::move(c);
  auto setup = [&](const Command& argv) {
    const auto r = command(argv);
    if (r.is_error()) {
      drop();
      throw std::runtime_error("redis " + where + ": " + argv[0] + " refused: " + r.str);
    }
  };
  if (!options_.password.empty()) setup({"AUTH", options_.password});
  if (options_.db != 0) setup({"SELECT", std::to_string(options_.db)});
}

Reply Client::command(const Command& argv) { return std::move(pipeline({argv}).front()); }

namespace {
void append_bulk(std::string& out, std::string_view arg) {
  char head[24];
  head[0] = '$';
  const auto end = std::to_chars(head + 1, head + sizeof head, arg.size()).ptr;
  out.append(head, end).append("\r\n").append(arg).append("\r\n");
}
}  // namespace

template <class Commands>
std::vector<Reply> Client::send_and_read(const Commands& commands) {
  ensure_connected();
  // RESP written here in one pass into one buffer and sent as it is: hiredis 0.14 grows its output
  // buffer by reallocation and moves the unsent rest to its front after every partial write,
  // which for a rebuild's multi-megabyte MSET was most of the client's time.
  out_.clear();
  for (const auto& cmd : commands) {
    char head[24];
    head[0] = '*';
    const auto end = std::to_chars(head + 1, head + sizeof head, cmd.size()).ptr;
    out_.append(head, end).append("\r\n");
    for (const auto& a : cmd) append_bulk(out_, a);
  }
  send_all(out_);
  if (out_.capacity() > (64u << 20)) std::string().swap(out_);  // do not keep a huge batch's buffer
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) replies.push_back(read_reply());
  return replies;
}

std::vector<Reply> Client::pipeline(const std::vector<Command>& commands) { return send_and_read(commands); }
std::vector<Reply> Client::pipeline(const std::vector<CommandView>& commands) { return send_and_read(commands); }

void Client::send_all(std::string_view data) {
  // The socket is blocking with SO_SNDTIMEO (redisSetTimeout): a stalled server is a timeout.
  while (!data.empty()) {
    const ssize_t n = ::send(ctx_->fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const std::string why = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out sending" : std::strerror(errno);
    drop();
    throw Unavailable("redis: " + why);
  }
}

Reply Client::read() {
  ensure_connected();
  return read_reply();
}

Reply Client::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || !raw) {
    const std::string err = ctx_->err ? ctx_->errstr : "no reply";
    drop();
    throw Unavailable("redis: " + err);
  }
  std::unique_ptr<redisReply, ReplyFree> r(static_cast<redisReply*>(raw));
  return convert(r.get());
}

}  // namespace anipipe::redis
