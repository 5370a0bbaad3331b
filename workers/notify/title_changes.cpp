#include "title_changes.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "kafka/topic_reader.hpp"
#include "util/hmac.hpp"

namespace anipipe::notify {

std::string content_hash(std::string_view value) {
  // A MAC under a fixed key is a SHA-256 fingerprint as good as the plain digest, from the one
  // primitive common/util already offers.
  return util::hmac_sha256_hex("anilibria.titles", value).substr(0, 32);
}

void TitleChanges::prepare(const std::vector<std::pair<std::int32_t, std::int64_t>>& records) {
  std::map<std::int32_t, std::int64_t> before;
  for (const auto& [partition, offset] : records) {
    if (known_.count(partition)) continue;
    auto [it, added] = before.emplace(partition, offset);
    if (!added && offset < it->second) it->second = offset;
  }
  if (before.empty()) return;
  const auto started = std::chrono::steady_clock::now();
  std::map<std::int32_t, std::unordered_map<std::int64_t, std::string>> loaded;
  for (const auto& [partition, offset] : before) loaded[partition];
  history_(before, [&](std::int32_t partition, std::int64_t title_id, std::optional<std::string_view> value) {
    auto& titles = loaded[partition];
    if (value) titles[title_id] = content_hash(*value);
    else titles.erase(title_id);
  });
  std::size_t n = 0;
  for (auto& [partition, titles] : loaded) {
    n += titles.size();
    known_[partition] = std::move(titles);
  }
  spdlog::info("title history of {} partition(s) read in {} ms: {} title(s) known", before.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count(), n);
}

TitleChanges::Seen TitleChanges::observe(std::int32_t partition, std::int64_t title_id, std::optional<std::string_view> value) {
  auto& titles = known_[partition];
  auto it = titles.find(title_id);
  if (!value) {
    if (it != titles.end()) titles.erase(it);
    return {Verdict::removed, {}};
  }
  Seen seen{Verdict::first, content_hash(*value)};
  if (it == titles.end()) {
    titles.emplace(title_id, seen.hash);
    return seen;
  }
  seen.verdict = it->second == seen.hash ? Verdict::unchanged : Verdict::changed;
  it->second = seen.hash;
  return seen;
}

std::size_t TitleChanges::titles() const {
  std::size_t n = 0;
  for (const auto& [partition, titles] : known_) n += titles.size();
  return n;
}

TitleChanges::HistoryReader catalog_history(kafka::Settings settings, std::string topic) {
  return [settings = std::move(settings), topic = std::move(topic)](const std::map<std::int32_t, std::int64_t>& before,
                                                                    const TitleChanges::Apply& apply) {
    std::vector<std::int32_t> partitions;
    partitions.reserve(before.size());
    for (const auto& [partition, offset] : before) partitions.push_back(partition);
    kafka::read_to_end(settings, topic, partitions, kafka::ReadStart::from_earliest(), [&](const kafka::Message& m) {
      const auto it = before.find(m.partition());
      const auto key = m.key();
      std::int64_t title_id = 0;
      if (it == before.end() || m.offset() >= it->second || !key) return;
      if (std::from_chars(key->data(), key->data() + key->size(), title_id).ec != std::errc()) return;
      apply(m.partition(), title_id, m.value());
    });
  };
}

}  // namespace anipipe::notify
