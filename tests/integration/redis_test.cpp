// The test redis-server from scripts/redis: reachable on loopback, no persistence configured.
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace {
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};

int redis_port() {
  const char* p = std::getenv("ANIPIPE_REDIS_PORT");
  return p && *p ? std::atoi(p) : 6379;
}
}  // namespace

TEST_CASE("redis-server answers on 127.0.0.1 and persists nothing") {
  std::unique_ptr<redisContext, ContextFree> c(redisConnect("127.0.0.1", redis_port()));
  REQUIRE(c);
  REQUIRE_MESSAGE(c->err == 0, c->errstr);
  Reply set(static_cast<redisReply*>(redisCommand(c.get(), "SET %s %s", "anipipe:test:ping", "pong")));
  REQUIRE(set);
  CHECK(std::string(set->str, set->len) == "OK");
  Reply get(static_cast<redisReply*>(redisCommand(c.get(), "GET %s", "anipipe:test:ping")));
  REQUIRE(get);
  CHECK(std::string(get->str, get->len) == "pong");
  Reply save(static_cast<redisReply*>(redisCommand(c.get(), "CONFIG GET save")));
  REQUIRE(save);
  REQUIRE(save->elements == 2);
  CHECK(std::string(save->element[1]->str, save->element[1]->len).empty());
  Reply aof(static_cast<redisReply*>(redisCommand(c.get(), "CONFIG GET appendonly")));
  REQUIRE(aof);
  CHECK(std::string(aof->element[1]->str, aof->element[1]->len) == "no");
  Reply del(static_cast<redisReply*>(redisCommand(c.get(), "DEL %s", "anipipe:test:ping")));
}
