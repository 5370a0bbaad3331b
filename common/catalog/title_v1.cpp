#include "catalog/title_v1.hpp"

namespace anipipe::catalog {

std::string to_v1_json(const TitleDocument& t) {
  std::string out;
  out.reserve(512 + (t.description ? t.description->size() : 0) + t.episodes.size() * 256);
  json::Writer w(out);
  write_v1(w, t);
  return out;
}

}  // namespace anipipe::catalog
