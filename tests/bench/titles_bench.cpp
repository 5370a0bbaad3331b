// anipipe-bench-titles TOPIC N [FIRST_ID]: N anilibria.titles documents of about 2 KB each (12
// episodes, a long description), as sync would publish them, for scripts/bench-cache.
// Prints {"produced", "bytes_per_title"}.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "catalog/title_document.hpp"
#include "kafka_helpers.hpp"

using namespace anipipe::testing;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: anipipe-bench-titles TOPIC N [FIRST_ID]\n");
    return 2;
  }
  const long n = std::atol(argv[2]), first = argc > 3 ? std::atol(argv[3]) : 1;
  const char* genres[] = {"Драма", "Комедия", "Романтика", "Фэнтези", "Приключения", "Повседневность"};
  std::vector<Produced> records;
  std::size_t bytes = 0;
  for (long id = first; id < first + n; ++id) {
    anipipe::catalog::TitleDocument t;
    t.id = id;
    t.alias = "title-" + std::to_string(id);
    t.name_ru = "Тайтл номер " + std::to_string(id);
    t.name_en = "Title number " + std::to_string(id);
    t.type = "TV";
    t.year = 2000 + id % 26;
    t.season = "winter";
    t.status = id % 3 ? "ongoing" : "finished";
    t.genres = {genres[id % 6], genres[(id + 1) % 6]};
    t.description = "Описание: " + std::string(300, 'x');
    t.has_poster = true;
    t.poster_src = "/storage/releases/posters/" + std::to_string(id) + "/poster.jpg";
    t.episodes_total = 12;
    for (int e = 1; e <= 8; ++e) {
      anipipe::catalog::Episode ep;
      ep.id = std::to_string(id) + "-" + std::to_string(e);
      ep.ordinal = e;
      ep.name = "Серия " + std::to_string(e);
      ep.duration = 1420;
      ep.hls_720 = "https://cache.example/videos/media/ts/" + std::to_string(id) + "/" + std::to_string(e) + "/720/x.m3u8";
      t.episodes.push_back(std::move(ep));
    }
    t.updated_at = "2025-01-16T08:20:00Z";
    auto json = t.to_json();
    bytes += json.size();
    records.push_back({std::to_string(id), std::move(json)});
  }
  produce_all(argv[1], records);
  std::printf("{\"produced\":%ld,\"bytes_per_title\":%zu}\n", n, n ? bytes / static_cast<std::size_t>(n) : 0);
  return 0;
}
