#include "title_meta.hpp"

#include <cstdlib>

namespace anipipe::cache {

namespace {
constexpr char kSep = '\x1f';
constexpr char kListSep = '\x1e';

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (std::size_t start = 0;;) {
    const auto at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}
}  // namespace

std::optional<TitleMeta> TitleMeta::parse(const redis::Reply& r) {
  if (r.type != redis::Reply::Type::string) return std::nullopt;
  auto f = split(r.str, kSep);
  if (f.size() < 2) return std::nullopt;
  TitleMeta m;
  m.partition = f[0];
  m.offset = std::strtoll(f[1].c_str(), nullptr, 10);
  m.tombstone = f.size() < 5;
  if (!m.tombstone) {
    m.alias = f[2];
    m.status = f[3];
    m.genres = split(f[4], kListSep);
  }
  return m;
}

std::string TitleMeta::live(std::int32_t partition, std::int64_t offset, std::string_view alias, std::string_view status,
                            const std::vector<std::string>& genres) {
  std::string out = std::to_string(partition) + kSep + std::to_string(offset) + kSep;
  out.append(alias).push_back(kSep);
  out.append(status).push_back(kSep);
  for (std::size_t i = 0; i < genres.size(); ++i) {
    if (i) out += kListSep;
    out += genres[i];
  }
  return out;
}

std::string TitleMeta::dead(std::int32_t partition, std::int64_t offset) {
  return std::to_string(partition) + kSep + std::to_string(offset);
}

}  // namespace anipipe::cache
