#include "title_catalog.hpp"

#include <algorithm>
#include <mutex>

#include "catalog/title_v1.hpp"
#include "util/hex.hpp"

namespace anipipe::edge {

std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c + 32));
    } else if (c == 0xD0 && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      ++i;
      if (d >= 0x90 && d <= 0x9F) {  // А..П -> а..п
        out.push_back(static_cast<char>(0xD0));
        out.push_back(static_cast<char>(d + 0x20));
      } else if (d >= 0xA0 && d <= 0xAF) {  // Р..Я -> р..я
        out.push_back(static_cast<char>(0xD1));
        out.push_back(static_cast<char>(d - 0x20));
      } else if (d == 0x81) {  // Ё -> ё
        out.push_back(static_cast<char>(0xD1));
        out.push_back(static_cast<char>(0x91));
      } else {
        out.push_back(static_cast<char>(c));
        out.push_back(static_cast<char>(d));
      }
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string strong_etag(std::string_view json) {
  // FNV-1a 64: cheap, and a strong validator only needs to change when the bytes change.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : json) h = (h ^ c) * 1099511628211ull;
  return "\"" + util::to_hex(h) + "\"";
}

namespace {
bool newer_first(const std::shared_ptr<const CatalogEntry>& a, const std::shared_ptr<const CatalogEntry>& b) {
  const auto& ua = a->doc.updated_at;
  const auto& ub = b->doc.updated_at;
  if (ua != ub) return ua.value_or("") > ub.value_or("");  // RFC 3339 UTC strings order as time
  return a->doc.id > b->doc.id;
}
}  // namespace

void TitleCatalog::apply(std::int64_t id, std::optional<std::string_view> value) {
  if (!value) {
    std::unique_lock lock(mutex_);
    if (by_id_.erase(id)) order_stale_ = true;
    return;
  }
  auto entry = std::make_shared<CatalogEntry>();
  entry->doc = catalog::TitleDocument::parse(*value);
  if (entry->doc.id != id) throw std::invalid_argument("key " + std::to_string(id) + " carries title " + std::to_string(entry->doc.id));
  entry->v2_json = std::string(*value);
  entry->v1_json = catalog::to_v1_json(entry->doc);
  entry->etag = strong_etag(entry->v2_json);
  std::string names = entry->doc.name_ru;
  for (const auto* n : {&entry->doc.name_en, &entry->doc.name_alternative})
    if (*n) names += "\n" + **n;
  names += "\n" + entry->doc.alias;
  entry->search_text = fold_case(names);
  {
    std::unique_lock lock(mutex_);
    by_id_[id] = std::move(entry);
    order_stale_ = true;
  }
  arrived_.notify_all();
}

std::shared_ptr<const CatalogEntry> TitleCatalog::wait_for(std::int64_t id, std::chrono::milliseconds timeout) const {
  std::shared_lock lock(mutex_);
  std::shared_ptr<const CatalogEntry> found;
  arrived_.wait_for(lock, timeout, [&] {
    auto it = by_id_.find(id);
    if (it != by_id_.end()) found = it->second;
    return found != nullptr;
  });
  return found;
}

std::shared_ptr<const CatalogEntry> TitleCatalog::find(std::int64_t id) const {
  std::shared_lock lock(mutex_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::size_t TitleCatalog::size() const {
  std::shared_lock lock(mutex_);
  return by_id_.size();
}

void TitleCatalog::rebuild_order_locked() const {
  ordered_.clear();
  ordered_.reserve(by_id_.size());
  for (const auto& [id, e] : by_id_) ordered_.push_back(e);
  std::sort(ordered_.begin(), ordered_.end(), newer_first);
  order_stale_ = false;
}

TitlePage TitleCatalog::list(const TitleQuery& query) const {
  {
    std::shared_lock lock(mutex_);
    if (order_stale_) {
      lock.unlock();
      std::unique_lock write(mutex_);
      if (order_stale_) rebuild_order_locked();
    }
  }
  const std::string needle = query.q ? fold_case(*query.q) : std::string();
  auto matches = [&](const CatalogEntry& e) {
    const auto& d = e.doc;
    if (query.year && d.year != query.year) return false;
    if (query.season && d.season != query.season) return false;
    if (query.status && d.status != *query.status) return false;
    if (query.genre && std::find(d.genres.begin(), d.genres.end(), *query.genre) == d.genres.end()) return false;
    if (!needle.empty() && e.search_text.find(needle) == std::string::npos) return false;
    return true;
  };
  TitlePage page;
  const std::size_t limit = std::max<std::size_t>(query.limit, 1);
  const std::size_t skip = (std::max<std::size_t>(query.page, 1) - 1) * limit;
  std::shared_lock lock(mutex_);
  for (const auto& e : ordered_) {
    if (!matches(*e)) continue;
    if (page.total >= skip && page.items.size() < limit) page.items.push_back(e);
    ++page.total;
  }
  return page;
}

}  // namespace anipipe::edge
