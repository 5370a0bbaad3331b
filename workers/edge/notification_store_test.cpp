#include <doctest/doctest.h>

#include "notification_store.hpp"

using namespace anipipe::edge;

namespace {
std::string id(char c) { return std::string(32, c); }
// Newest first, as ZREVRANGE gives them: two share a millisecond (the larger id first).
const std::vector<HistoryEntry> kHistory{{id('e'), 500}, {id('d'), 400}, {id('c'), 300}, {id('b'), 300}, {id('a'), 100}};
}  // namespace

TEST_CASE("notification history: pages newest first, a cursor resumes after the last one, even within one millisecond") {
  HistoryQuery q;
  q.limit = 2;
  auto page = page_of(kHistory, {}, q);
  CHECK(page.ids == std::vector<std::string>{id('e'), id('d')});
  REQUIRE(page.next);
  CHECK(page.next->to_string() == "400-" + id('d'));
  CHECK(page.unread == 5);

  q.after = HistoryCursor::parse(page.next->to_string());
  REQUIRE(q.after);
  page = page_of(kHistory, {}, q);
  CHECK(page.ids == std::vector<std::string>{id('c'), id('b')});
  REQUIRE(page.next);
  q.after = page.next;
  page = page_of(kHistory, {}, q);
  CHECK(page.ids == std::vector<std::string>{id('a')});
  CHECK_FALSE(page.next);  // the last page

  q = {};
  q.limit = 5;
  page = page_of(kHistory, {}, q);
  CHECK(page.ids.size() == 5);
  CHECK_FALSE(page.next);  // exactly full, nothing after
}

TEST_CASE("notification history: unread only skips what was read; the unread count is the whole history's") {
  HistoryQuery q;
  q.limit = 2;
  q.unread_only = true;
  const std::unordered_set<std::string> read{id('e'), id('c')};
  auto page = page_of(kHistory, read, q);
  CHECK(page.ids == std::vector<std::string>{id('d'), id('b')});
  CHECK(page.unread == 3);
  REQUIRE(page.next);
  q.after = page.next;
  page = page_of(kHistory, read, q);
  CHECK(page.ids == std::vector<std::string>{id('a')});
  CHECK_FALSE(page.next);
  CHECK(page_of({}, {}, HistoryQuery{}).ids.empty());
}

TEST_CASE("notification history: a cursor is <ms>-<32 hex digits>, anything else is refused") {
  CHECK(HistoryCursor::parse("1796281200250-" + id('a')));
  const std::vector<std::string> bad_cursors{"",
                                             "-",
                                             "12",
                                             "12-",
                                             "-" + id('a'),
                                             "x1-" + id('a'),
                                             "-5-" + id('a'),
                                             "1-" + id('g'),
                                             "1-" + id('a') + "0",
                                             "1-" + std::string(32, 'A')};
  for (const auto& bad : bad_cursors) CHECK_FALSE(HistoryCursor::parse(bad));
}
