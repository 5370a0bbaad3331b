#include "catalog/title_document.hpp"

#include <charconv>

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "catalog/title_json.hpp"
#include "catalog/title_reader.hpp"

namespace anipipe::catalog {
TitleDocument TitleDocument::parse(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root))
    throw std::invalid_argument(std::string("title document is not JSON: ") + simdjson::error_message(err));
  return parse(root);
}

TitleDocument TitleDocument::parse(const simdjson::dom::element& root) {
  TitleDocument t;
  if (!read_title(root, t)) t.alias = std::to_string(t.id);
  t.source = std::string(detail::opt_string(root, "source").value_or("v1"));
  return t;
}

std::string TitleDocument::to_json() const {
  std::string out;
  out.reserve(512 + (description ? description->size() : 0) + episodes.size() * 256);
  json::Writer w(out);
  write_title(w, *this, source);
  return out;
}

const Episode* TitleDocument::find_episode(std::string_view episode_id) const {
  for (const auto& e : episodes)
    if (e.id == episode_id) return &e;
  return nullptr;
}

const Episode* TitleDocument::find_ordinal(double ordinal) const {
  for (const auto& e : episodes)
    if (e.ordinal == ordinal) return &e;
  return nullptr;
}

std::optional<double> TitleDocument::last_ordinal() const {
  if (episodes.empty()) return std::nullopt;
  return episodes.back().ordinal;  // canonical order: by ordinal
}

TitleDocument merge(const TitleDocument& known, const TitleDocument& incoming) {
  TitleDocument out = incoming;
  std::map<double, Episode> by_ordinal;
  for (const auto& e : known.episodes) by_ordinal.insert_or_assign(e.ordinal, e);
  std::map<double, const Episode*> incoming_by_ordinal;
  for (const auto& e : incoming.episodes) {
    auto [it, first] = incoming_by_ordinal.try_emplace(e.ordinal, &e);
    // RFC 3339 strings of one upstream share a format, so they compare as times.
    if (!first && e.updated_at.value_or("") >= it->second->updated_at.value_or("")) it->second = &e;
  }
  for (const auto& [ordinal, e] : incoming_by_ordinal) by_ordinal.insert_or_assign(ordinal, *e);
  out.episodes.clear();
  for (auto& [_, e] : by_ordinal) out.episodes.push_back(std::move(e));
  sort_episodes(out.episodes);
  return out;
}

std::vector<const Episode*> new_episodes(const TitleDocument* before, const TitleDocument& after) {
  std::vector<const Episode*> out;
  for (const auto& e : after.episodes)
    if (!before || !before->find_ordinal(e.ordinal)) out.push_back(&e);
  return out;
}

std::optional<std::int64_t> parse_title_id(std::string_view text) {
  std::int64_t id = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || text.front() == '0' || ec != std::errc{} || p != end || id < 1 || id > kMaxTitleId) return std::nullopt;
  return id;
}

}  // namespace anipipe::catalog
