#pragma once
// topics/topics.json: the one list of topics (name, partitions, replication, configs), with
// per-file defaults merged into each topic.
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "kafka/admin.hpp"

namespace anipipe::ops {

/// Parses the catalog text; throws std::runtime_error naming the offending topic or field.
std::vector<kafka::TopicSpec> parse_topic_catalog(std::string_view json_text);
std::vector<kafka::TopicSpec> load_topic_catalog(const std::filesystem::path& file);
/// $ANIPIPE_TOPICS_FILE, else <source>/topics/topics.json.
std::filesystem::path default_topic_catalog();

}  // namespace anipipe::ops
