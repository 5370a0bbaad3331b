#include <doctest/doctest.h>

#include "redis/client.hpp"

using anipipe::redis::Options;

TEST_CASE("redis URLs: host, port, password, database, and the bare host:port form") {
  auto o = Options::parse("redis://:s3cret@cache.internal:6380/2");
  CHECK(o.host == "cache.internal");
  CHECK(o.port == 6380);
  CHECK(o.password == "s3cret");
  CHECK(o.db == 2);
  o = Options::parse("127.0.0.1:6379");
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 6379);
  CHECK(o.password.empty());
  CHECK(o.db == 0);
  o = Options::parse("redis://user:pw@h");
  CHECK(o.password == "pw");
  CHECK(o.port == 6379);
  CHECK_THROWS_AS(Options::parse("redis://h:notaport"), std::invalid_argument);
  CHECK_THROWS_AS(Options::parse("redis://h:6379/x"), std::invalid_argument);
}

TEST_CASE("a server that is not there is Unavailable, not a crash") {
  Options o;
  o.port = 1;  // nothing listens on port 1
  o.connect_timeout = std::chrono::milliseconds(200);
  anipipe::redis::Client c(o);
  CHECK_THROWS_AS(c.command({"PING"}), anipipe::redis::Unavailable);
}
