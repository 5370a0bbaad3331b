#include "recent_event_ids.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>

#include "kafka/topic_reader.hpp"

namespace anipipe::ingest {

RecentEventIds::RecentEventIds(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  table_.resize(1024);
  mask_ = table_.size() - 1;
}

void RecentEventIds::grow_table() {
  std::vector<Id> old(table_.size() * 2);
  old.swap(table_);
  mask_ = table_.size() - 1;
  for (const Id& id : old)
    if (!id.empty()) table_[find(id)] = id;
}

namespace {

/// Lower-case hex digit values, 0xFF for anything else (event ids are lower-case hex): a table
/// lookup per digit instead of compares and branches, as every upstream message passes through.
constexpr auto kHexDigit = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
  return t;
}();

/// 16 hex digits into 64 bits; false if one is not a digit.
bool parse_half(const char* hex, std::uint64_t& out) {
  std::uint64_t v = 0;
  std::uint8_t bad = 0;
  for (int i = 0; i < 16; ++i) {
    const std::uint8_t d = kHexDigit[static_cast<unsigned char>(hex[i])];
    bad |= d;  // 0xFF sets the high bits no digit has
    v = (v << 4) | (d & 0xF);
  }
  out = v;
  return (bad & 0xF0) == 0;
}

}  // namespace

bool RecentEventIds::parse(std::string_view hex, Id& out) {
  if (hex.size() != 32 || !parse_half(hex.data(), out.hi) || !parse_half(hex.data() + 16, out.lo)) return false;
  return !out.empty();  // the all-zero id marks an empty slot (and is not a digest anyone meets)
}

std::size_t RecentEventIds::slot_of(const Id& id) const {
  // The ids are digests: their bits are already uniform.
  return static_cast<std::size_t>(id.lo ^ (id.hi >> 7)) & mask_;
}

std::size_t RecentEventIds::find(const Id& id) const {
  std::size_t s = slot_of(id);
  while (!table_[s].empty() && !(table_[s] == id)) s = (s + 1) & mask_;
  return s;
}

void RecentEventIds::remove_at(std::size_t hole) {
  // Backward-shift deletion: move later members of the probe run into the hole, so lookups never
  // need tombstones.
  --size_;
  table_[hole] = {};
  for (std::size_t s = (hole + 1) & mask_; !table_[s].empty(); s = (s + 1) & mask_) {
    const std::size_t home = slot_of(table_[s]);
    // Movable if its home is not in the cyclic range (hole, s].
    const bool in_range = hole <= s ? (home > hole && home <= s) : (home > hole || home <= s);
    if (in_range) continue;
    table_[hole] = table_[s];
    table_[s] = {};
    hole = s;
  }
}

void RecentEventIds::remove(const Id& id) {
  const std::size_t s = find(id);
  if (!table_[s].empty()) remove_at(s);
}

bool RecentEventIds::insert(std::string_view event_id) {
  Id id;
  if (!parse(event_id, id)) return true;  // not ours to dedupe
  if (!table_[find(id)].empty()) return false;
  if (order_.size() < capacity_) {
    order_.push_back(id);
    if (2 * (size_ + 1) > table_.size()) grow_table();
  } else {
    // The oldest insertion makes room (it may have been erased already, or re-inserted since:
    // forgetting it early only lets a very old duplicate through, never loses an event).
    Id& oldest = order_[next_];
    if (!oldest.empty()) remove(oldest);
    oldest = id;
    next_ = (next_ + 1) % capacity_;
  }
  table_[find(id)] = id;  // found again: a removal or growth may have moved the probe run
  ++size_;
  return true;
}

bool RecentEventIds::contains(std::string_view event_id) const {
  Id id;
  return parse(event_id, id) && !table_[find(id)].empty();
}

void RecentEventIds::erase(std::string_view event_id) {
  Id id;
  if (parse(event_id, id)) remove(id);  // its order_ slot expires harmlessly
}

std::size_t RecentEventIds::recall(const kafka::Settings& settings, const std::string& topic, std::int64_t per_partition,
                                   const std::function<void(std::string_view)>& each) {
  simdjson::ondemand::parser parser;
  std::size_t n = 0;
  kafka::read_to_end(settings, topic, {}, kafka::ReadStart::last(per_partition), [&](const kafka::Message& m) {
    auto v = m.value();
    if (!v) return;
    if (each) each(*v);
    simdjson::padded_string padded(*v);
    simdjson::ondemand::document doc;
    std::string_view id;
    if (parser.iterate(padded).get(doc) || doc["event_id"].get_string().get(id)) return;
    if (insert(id)) ++n;
  });
  return n;
}

}  // namespace anipipe::ingest
