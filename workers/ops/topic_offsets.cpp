#include "topic_offsets.hpp"
#include "print_json.hpp"

#include <cstdio>

namespace anipipe::ops {

std::int64_t TopicOffsets::span() const {
  std::int64_t n = 0;
  for (const auto& p : partitions) n += p.high - p.low;
  return n;
}

std::vector<TopicOffsets> topic_offsets(kafka::Admin& admin) {
  std::vector<TopicOffsets> out;
  for (const auto& [tp, lohi] : admin.watermarks(admin.list_topics())) {
    if (out.empty() || out.back().name != tp.topic) out.push_back({tp.topic, {}});
    out.back().partitions.push_back({tp.partition, lohi.first, lohi.second});
  }
  return out;
}

void write_json(json::Writer& w, const std::vector<TopicOffsets>& topics) {
  w.begin_array();
  for (const auto& t : topics) {
    w.begin_object().field("topic", t.name).field("span", t.span()).key("partitions").begin_array();
    for (const auto& p : t.partitions)
      w.begin_object().field("partition", static_cast<std::int64_t>(p.partition)).field("low", p.low).field("high", p.high).end_object();
    w.end_array().end_object();
  }
  w.end_array();
}

int print_topic_offsets(kafka::Admin& admin, bool json) {
  const auto topics = topic_offsets(admin);
  if (json) {
    print_json(topics);
    return 0;
  }
  std::printf("%-50s %10s %14s  %s\n", "topic", "partitions", "offsets", "end offsets by partition");
  for (const auto& t : topics) {
    std::string ends;
    for (const auto& p : t.partitions) ends += (ends.empty() ? "" : " ") + std::to_string(p.high);
    std::printf("%-50s %10zu %14lld  %s\n", t.name.c_str(), t.partitions.size(), static_cast<long long>(t.span()), ends.c_str());
  }
  return 0;
}

}  // namespace anipipe::ops
