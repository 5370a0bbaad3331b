#include "redis/client.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace anipipe::redis {

namespace {
timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::string; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::status; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::error; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::integer; out.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = Reply::Type::nil; break;
  }
  return out;
}

struct ReplyFree { void operator()(redisReply* r) const noexcept { if (r) freeReplyObject(r); } };
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

std::vector<Reply> Client::pipeline(const std::vector<Command>& commands) {
  ensure_connected();
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    args.clear();
    lens.clear();
    for (const auto& a : cmd) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(args.size()), args.data(), lens.data()) != REDIS_OK) {
      const std::string err = ctx_->errstr;
      drop();
      throw Unavailable("redis: " + err);
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) replies.push_back(read_reply());
  return replies;
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
