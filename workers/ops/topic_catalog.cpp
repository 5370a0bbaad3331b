#include "topic_catalog.hpp"

#include <simdjson.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

namespace anipipe::ops {
namespace {

std::string scalar_to_string(simdjson::dom::element v, const std::string& where) {
  using T = simdjson::dom::element_type;
  switch (v.type()) {
    case T::STRING: return std::string(std::string_view(v));
    case T::INT64: return std::to_string(int64_t(v));
    case T::UINT64: return std::to_string(uint64_t(v));
    case T::BOOL: return bool(v) ? "true" : "false";
    default: throw std::runtime_error(where + ": config values must be strings, integers or booleans");
  }
}

void read_configs(simdjson::dom::object obj, std::map<std::string, std::string>& into, const std::string& where) {
  for (auto [k, v] : obj) into[std::string(k)] = scalar_to_string(v, where + "." + std::string(k));
}

int read_positive(simdjson::dom::element v, const std::string& where) {
  int64_t n = 0;
  if (v.get(n) || n < 1 || n > 10000) throw std::runtime_error(where + " must be an integer between 1 and 10000");
  return static_cast<int>(n);
}

}  // namespace

std::vector<kafka::TopicSpec> parse_topic_catalog(std::string_view json_text, const std::string& profile) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json_text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    throw std::runtime_error(std::string("topic catalog is not JSON: ") + simdjson::error_message(err));

  kafka::TopicSpec defaults;
  if (simdjson::dom::object d; !root["defaults"].get(d)) {
    if (auto p = d["partitions"]; !p.error()) defaults.partitions = read_positive(p.value(), "defaults.partitions");
    if (auto r = d["replication_factor"]; !r.error()) defaults.replication_factor = read_positive(r.value(), "defaults.replication_factor");
    if (simdjson::dom::object c; !d["configs"].get(c)) read_configs(c, defaults.configs, "defaults.configs");
  }

  // A profile describes the cluster, not a topic: its values win over each topic's own.
  std::optional<int> profile_replication;
  std::map<std::string, std::string> profile_configs;
  if (!profile.empty()) {
    simdjson::dom::object p;
    if (root["profiles"][profile].get(p)) {
      std::string known;
      if (simdjson::dom::object all; !root["profiles"].get(all))
        for (auto [k, v] : all) known += (known.empty() ? "" : ", ") + std::string(k);
      throw std::runtime_error("topic catalog has no profile \"" + profile + "\"" + (known.empty() ? "" : " (it has: " + known + ")"));
    }
    const std::string where = "profiles." + profile;
    if (auto r = p["replication_factor"]; !r.error()) profile_replication = read_positive(r.value(), where + ".replication_factor");
    if (simdjson::dom::object c; !p["configs"].get(c)) read_configs(c, profile_configs, where + ".configs");
  }

  simdjson::dom::array topics;
  if (root["topics"].get(topics)) throw std::runtime_error("topic catalog: \"topics\" must be an array");
  std::vector<kafka::TopicSpec> out;
  std::set<std::string> seen;
  for (auto t : topics) {
    std::string_view name;
    if (t["name"].get(name) || name.empty()) throw std::runtime_error("topic catalog: every topic needs a \"name\"");
    const std::string where = "topic " + std::string(name);
    if (!seen.insert(std::string(name)).second) throw std::runtime_error(where + " is listed twice");
    kafka::TopicSpec spec = defaults;
    spec.name = std::string(name);
    if (auto p = t["partitions"]; !p.error()) spec.partitions = read_positive(p.value(), where + ".partitions");
    if (auto r = t["replication_factor"]; !r.error()) spec.replication_factor = read_positive(r.value(), where + ".replication_factor");
    if (simdjson::dom::object c; !t["configs"].get(c)) read_configs(c, spec.configs, where + ".configs");
    if (profile_replication) spec.replication_factor = *profile_replication;
    for (const auto& [k, v] : profile_configs) spec.configs[k] = v;
    out.push_back(std::move(spec));
  }
  return out;
}

std::vector<kafka::TopicSpec> load_topic_catalog(const std::filesystem::path& file, const std::string& profile) {
  auto text = simdjson::padded_string::load(file.string());
  if (text.error()) throw std::runtime_error("cannot read topic catalog " + file.string());
  try {
    return parse_topic_catalog(std::string_view(text.value()), profile);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

std::string auto_profile(std::size_t brokers) { return brokers >= 3 ? "cluster" : ""; }

std::filesystem::path default_topic_catalog() {
  if (const char* f = std::getenv("ANIPIPE_TOPICS_FILE"); f && *f) return f;
  if (const char* s = std::getenv("ANIPIPE_SOURCE_DIR"); s && *s) return std::filesystem::path(s) / "topics" / "topics.json";
  return std::filesystem::path(ANIPIPE_DEFAULT_SOURCE_DIR) / "topics" / "topics.json";
}

}  // namespace anipipe::ops
