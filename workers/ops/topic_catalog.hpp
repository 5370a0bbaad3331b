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
/// `profile` names one of the catalog's "profiles" (e.g. "cluster": replication 3 and
/// min.insync.replicas 2), whose values override every topic's; empty: none.
std::vector<kafka::TopicSpec> parse_topic_catalog(std::string_view json_text, const std::string& profile = {});
std::vector<kafka::TopicSpec> load_topic_catalog(const std::filesystem::path& file, const std::string& profile = {});
/// The profile `auto` means on a cluster of `brokers`: "cluster" from 3 brokers on, else none.
std::string auto_profile(std::size_t brokers);
/// $ANIPIPE_TOPICS_FILE, else <source>/topics/topics.json.
std::filesystem::path default_topic_catalog();

}  // namespace anipipe::ops
