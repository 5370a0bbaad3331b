#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "title_catalog.hpp"

using namespace anipipe::edge;

namespace {
std::string title(std::int64_t id, const std::string& ru, const std::string& en, int year, const std::string& season,
                  const std::string& status, const std::string& genre, const std::string& updated) {
  const auto s = std::to_string(id);
  return R"({"id":)" + s + R"(,"alias":"title-)" + s + R"(","names":{"ru":")" + ru + R"(","en":")" + en +
         R"(","alternative":null},"type":"TV","year":)" + std::to_string(year) + R"(,"season":")" + season + R"(","status":")" + status +
         R"(","genres":[")" + genre +
         R"("],"description":null,"poster":null,"episodes_total":null,)"
         R"("episodes":[{"id":"e1","ordinal":1}],"fresh_at":null,"updated_at":")" +
         updated + R"(","source":"v1"})";
}
}  // namespace

TEST_CASE("fold_case: ASCII and Russian Cyrillic, Ё included") {
  CHECK(fold_case("Hana WA Saku") == "hana wa saku");
  CHECK(fold_case("ЦВЕТОК Распускающийся") == "цветок распускающийся");
  CHECK(fold_case("ЁЖИК ёжик") == "ёжик ёжик");
  CHECK(fold_case("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") == "абвгдежзийклмнопрстуфхцчшщъыьэюя");
  CHECK(fold_case("日本 – x") == "日本 – x");
}

TEST_CASE("catalog: upsert, tombstone, filters, search, paging, newest first") {
  TitleCatalog c;
  c.apply(1, title(1, "Цветок", "Hana", 2025, "winter", "ongoing", "Комедия", "2025-01-03T00:00:00Z"));
  c.apply(2, title(2, "Клинок", "Blade", 2024, "autumn", "finished", "Экшен", "2025-01-02T00:00:00Z"));
  c.apply(3, title(3, "Ещё цветок", "Another Flower", 2025, "winter", "ongoing", "Экшен", "2025-01-01T00:00:00Z"));
  CHECK(c.size() == 3);
  REQUIRE(c.find(2));
  CHECK(c.find(2)->v1_json.find(R"("aniLibriaId":2)") != std::string::npos);
  CHECK(c.find(2)->etag.size() == 18);

  auto all = c.list({});
  REQUIRE(all.total == 3);
  CHECK(all.items[0]->doc.id == 1);
  CHECK(all.items[2]->doc.id == 3);

  TitleQuery q;
  q.year = 2025;
  CHECK(c.list(q).total == 2);
  q.genre = "Экшен";
  CHECK(c.list(q).total == 1);
  TitleQuery search;
  search.q = "ЦВЕТ";  // matches "Цветок" and "Ещё цветок"
  CHECK(c.list(search).total == 2);
  search.q = "flower";
  CHECK(c.list(search).total == 1);
  TitleQuery paged;
  paged.limit = 2;
  paged.page = 2;
  auto p2 = c.list(paged);
  CHECK(p2.total == 3);
  REQUIRE(p2.items.size() == 1);
  CHECK(p2.items[0]->doc.id == 3);

  const auto old_etag = c.find(1)->etag;
  c.apply(1, title(1, "Цветок", "Hana", 2025, "winter", "finished", "Комедия", "2025-01-04T00:00:00Z"));
  CHECK(c.find(1)->etag != old_etag);
  TitleQuery finished;
  finished.status = "finished";
  CHECK(c.list(finished).total == 2);

  c.apply(2, std::nullopt);
  CHECK(c.find(2) == nullptr);
  CHECK(c.list({}).total == 2);
  CHECK_THROWS_AS(c.apply(9, "{}"), std::invalid_argument);
  CHECK_THROWS_AS(c.apply(9, title(8, "x", "x", 2025, "winter", "ongoing", "x", "2025-01-01T00:00:00Z")), std::invalid_argument);
}

TEST_CASE("catalog: wait_for returns a title the moment it is applied, or nothing after the timeout") {
  anipipe::edge::TitleCatalog c;
  CHECK(c.wait_for(7, std::chrono::milliseconds(20)) == nullptr);
  const auto started = std::chrono::steady_clock::now();
  std::thread applier([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.apply(7, title(7, "Т", "T", 2025, "winter", "ongoing", "Драма", "2025-01-01T00:00:00Z"));
  });
  auto e = c.wait_for(7, std::chrono::seconds(10));
  applier.join();
  REQUIRE(e != nullptr);
  CHECK(e->doc.id == 7);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}
