// anipipe-bench-sync: the pieces scripts/bench-sync drives.
//   snapshots TOPIC N           produce N complete snapshots (N titles, every episode listed: no fetch)
//   partial TOPIC FIRST N       produce N releases/latest snapshots (the latest episode only) of titles
//                               FIRST..FIRST+N-1 that the upstream has and the catalog does not: each is fetched
//   requests TOPIC FIRST N      produce N forced sync requests for titles FIRST..FIRST+N-1
//   await TOPIC N TIMEOUT_S [ALREADY]  read TOPIC (read_committed) until N records past the ALREADY
//                               it held before; print the rate between the first and the last arrival
//   fetch URL FIRST N CONC      the upstream alone: fetch N titles, CONC in flight, with sync's fetcher
// Each prints one JSON line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kafka_helpers.hpp"
#include "title_fetcher.hpp"

using namespace anipipe::testing;
using Clock = std::chrono::steady_clock;

namespace {

std::string snapshot(int title, bool complete = true) {
  const std::string t = std::to_string(title);
  std::string eps;
  for (int e = complete ? 1 : 3; e <= 3; ++e)
    eps += std::string(eps.empty() ? "" : ",") + R"({"id":")" + t + "-ep-" + std::to_string(e) + R"(","ordinal":)" + std::to_string(e) +
           R"(,"name":"Серия )" + std::to_string(e) + R"(","duration":1440,"hls":{"480":"https://cache.example/videos/media/ts/)" + t +
           "/" + std::to_string(e) + R"(/480/x.m3u8","720":"https://cache.example/videos/media/ts/)" + t + "/" + std::to_string(e) +
           R"(/720/x.m3u8"},"updated_at":"2025-01-16T08:20:00Z"})";
  return R"({"event_id":"0123456789abcdef0123456789abcdef","kind":"release_changed","title_id":)" + t +
         R"(,"observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1","endpoint":"/anime/releases/latest"},)" +
         (complete ? R"("episodes_complete":true,)" : "") + R"("title":{"id":)" + t + R"(,"alias":"title-)" + t +
         R"(","names":{"ru":"Тайтл )" + t + R"(","en":"Title )" + t +
         R"(","alternative":null},"type":"TV","year":2025,"season":"winter","status":"ongoing","genres":["Комедия","Романтика"],)"
         R"("description":"Описание тайтла, достаточно длинное, чтобы документ был похож на настоящий.","poster":{"src":"/storage/releases/posters/)" +
         t + R"(/a.jpg","thumbnail":"/storage/releases/posters/)" + t + R"(/a_thumb.jpg"},"episodes_total":12,"episodes":[)" + eps +
         R"(],"fresh_at":"2025-01-16T08:20:00Z","updated_at":"2025-01-16T08:20:00Z","source":"v1"}})";
}

int usage() {
  std::fprintf(stderr, "usage: anipipe-bench-sync snapshots TOPIC N | partial TOPIC FIRST N | requests TOPIC FIRST N | "
                       "await TOPIC N TIMEOUT_S [ALREADY] | fetch URL FIRST N CONC\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  if (cmd == "snapshots" && argc == 4) {
    const int n = std::atoi(argv[3]);
    std::vector<Produced> records;
    for (int i = 1; i <= n; ++i) records.push_back({std::to_string(i), snapshot(i)});
    const auto started = Clock::now();
    produce_all(argv[2], records);
    const double s = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("{\"produced\":%d,\"bytes_per_event\":%zu,\"seconds\":%.3f,\"per_s\":%.0f}\n", n, snapshot(n).size(), s, n / s);
    return 0;
  }
  if (cmd == "partial" && argc == 5) {
    const int first = std::atoi(argv[3]), n = std::atoi(argv[4]);
    std::vector<Produced> records;
    for (int i = first; i < first + n; ++i) records.push_back({std::to_string(i), snapshot(i, false)});
    produce_all(argv[2], records);
    std::printf("{\"produced\":%d}\n", n);
    return 0;
  }
  if (cmd == "requests" && argc == 5) {
    const int first = std::atoi(argv[3]), n = std::atoi(argv[4]);
    std::vector<Produced> records;
    for (int i = first; i < first + n; ++i)
      records.push_back({std::to_string(i), R"({"title_id":)" + std::to_string(i) +
                                                R"(,"force":true,"priority":"normal","requested_by":"bench","correlation_id":"bench-)" +
                                                std::to_string(i) + "\"}"});
    produce_all(argv[2], records);
    std::printf("{\"produced\":%d}\n", n);
    return 0;
  }
  if (cmd == "await" && (argc == 5 || argc == 6)) {
    // ALREADY: records the topic held before this step; the rate counts only the ones after them.
    const std::size_t already = argc == 6 ? std::strtoull(argv[5], nullptr, 10) : 0;
    const std::size_t n = std::strtoull(argv[3], nullptr, 10) + already;
    // ANIPIPE_BENCH_FROM_START=1: count from this call (made right after the inputs were produced)
    // instead of from the first record seen - output that comes in a few large transactions would
    // otherwise look as fast as the gap between its first and last commits.
    const bool from_start = std::getenv("ANIPIPE_BENCH_FROM_START") && std::string(std::getenv("ANIPIPE_BENCH_FROM_START")) == "1";
    Clock::time_point first = Clock::now(), last{};
    std::size_t seen = 0;
    auto got = consume_until(
        argv[2],
        [&](const std::vector<Received>& r) {
          if (r.size() != seen) {
            if (!from_start && seen <= already && r.size() > already) first = Clock::now();
            last = Clock::now();
            seen = r.size();
          }
          return r.size() >= n;
        },
        std::chrono::seconds(std::atoi(argv[4])));
    const double s = std::chrono::duration<double>(last - first).count();
    const std::size_t counted = got.size() > already ? got.size() - already : 0;
    std::printf("{\"records\":%zu,\"seconds\":%.3f,\"per_s\":%.0f}\n", counted, s,
                from_start    ? static_cast<double>(counted) / s
                : counted > 1 ? static_cast<double>(counted - 1) / s
                              : 0.0);
    return got.size() >= n ? 0 : 1;
  }
  if (cmd == "fetch" && argc == 6) {
    const long first = std::atol(argv[3]), n = std::atol(argv[4]);
    anipipe::http::ClientOptions o;
    o.max_retries = 0;
    anipipe::sync::TitleFetcher fetcher(argv[2], o, std::strtoull(argv[5], nullptr, 10), nullptr);
    std::vector<std::int64_t> ids;
    for (long i = first; i < first + n; ++i) ids.push_back(i);
    std::atomic<bool> stop{false};
    const auto started = Clock::now();
    auto results = fetcher.fetch(ids, stop);
    const double s = std::chrono::duration<double>(Clock::now() - started).count();
    std::size_t found = 0;
    for (const auto& r : results) found += r.status == anipipe::sync::Fetched::Status::found;
    std::printf("{\"titles\":%ld,\"found\":%zu,\"seconds\":%.3f,\"per_s\":%.0f}\n", n, found, s, static_cast<double>(found) / s);
    return found == static_cast<std::size_t>(n) ? 0 : 1;
  }
  return usage();
}
