#include "recent_event_ids.hpp"

#include <simdjson.h>

#include "kafka/topic_reader.hpp"

namespace anipipe::ingest {

bool RecentEventIds::parse(std::string_view hex, Id& out) {
  if (hex.size() != 32) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out = {};
  for (std::size_t i = 0; i < 32; ++i) {
    const int v = nibble(hex[i]);
    if (v < 0) return false;
    auto& half = i < 16 ? out.hi : out.lo;
    half = (half << 4) | static_cast<std::uint64_t>(v);
  }
  return true;
}

bool RecentEventIds::insert(std::string_view event_id) {
  Id id;
  if (!parse(event_id, id)) return true;  // not ours to dedupe
  if (!set_.insert(id).second) return false;
  order_.push_back(id);
  while (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

bool RecentEventIds::contains(std::string_view event_id) const {
  Id id;
  return parse(event_id, id) && set_.count(id) != 0;
}

void RecentEventIds::erase(std::string_view event_id) {
  Id id;
  if (parse(event_id, id)) set_.erase(id);  // its order_ slot expires harmlessly
}

std::size_t RecentEventIds::recall(const kafka::Settings& settings, const std::string& topic, std::int64_t per_partition) {
  simdjson::ondemand::parser parser;
  std::size_t n = 0;
  kafka::read_to_end(settings, topic, {}, kafka::ReadStart::last(per_partition), [&](const kafka::Message& m) {
    auto v = m.value();
    if (!v) return;
    simdjson::padded_string padded(*v);
    simdjson::ondemand::document doc;
    std::string_view id;
    if (parser.iterate(padded).get(doc) || doc["event_id"].get_string().get(id)) return;
    if (insert(id)) ++n;
  });
  return n;
}

}  // namespace anipipe::ingest
