#include "resume_gate.hpp"

#include <doctest/doctest.h>

using namespace anipipe::edge;

namespace {
std::shared_ptr<const std::string> msg(int n) { return std::make_shared<const std::string>(std::to_string(n)); }
std::vector<std::string> texts(const ResumeGate::Messages& m) {
  std::vector<std::string> out;
  for (const auto& x : m) out.push_back(*x);
  return out;
}
}  // namespace

TEST_CASE("resume gate: live pushes wait for the replay, then follow it; nothing at or below what was delivered comes twice") {
  ResumeGate g;
  const auto ticket = g.open(5, 9, true);
  CHECK(g.live(5, 14, msg(14)).empty());
  CHECK(g.live(5, 12, msg(12)).empty());  // also in the replay: dropped when released
  CHECK(g.live(5, -1, msg(-1)).empty());  // no position: held too, to keep the order
  CHECK(g.held() == 3);
  CHECK(texts(g.live(6, 3, msg(3))) == std::vector<std::string>{"3"});  // another stream passes
  auto r = g.release(5, ticket, {{10, msg(10)}, {12, msg(12)}});
  REQUIRE(r);
  CHECK(texts(r->replay) == std::vector<std::string>{"10", "12"});
  CHECK(texts(r->held) == std::vector<std::string>{"14", "-1"});
  CHECK(g.held() == 0);
  CHECK(g.live(5, 14, msg(14)).empty());
  CHECK(texts(g.live(5, 15, msg(15))) == std::vector<std::string>{"15"});
  CHECK_FALSE(g.release(5, ticket, {}));  // released once
}

TEST_CASE("resume gate: a stream closed or opened again makes an older replay stale") {
  ResumeGate g;
  const auto first = g.open(5, 1, true);
  g.live(5, 4, msg(4));
  g.close(5);
  CHECK(g.held() == 0);
  CHECK_FALSE(g.release(5, first, {{2, msg(2)}}));
  const auto second = g.open(5, 3, true);
  CHECK_FALSE(g.release(5, first, {}));
  CHECK(g.release(5, second, {{2, msg(2)}, {4, msg(4)}})->replay.size() == 1);  // 2 was delivered before
  CHECK(texts(g.live(5, 5, msg(5))) == std::vector<std::string>{"5"});
}
