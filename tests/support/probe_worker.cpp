// anipipe-probe: a worker built on the shared runtime whose behaviour each record scripts, so
// integration tests can drive the consumer loop through every outcome against a real broker.
//   {"id": "...", "action": "ok"}        -> one output {"id","by","attempt"} to --output-topic
//   "retry:N"                            -> retry_later N times, then ok
//   "dead"                               -> dead_letter (a permanent error)
//   "throw"                              -> the handler throws every time (-> DLQ after --max-attempts)
//   "sleep:MS"                           -> sleeps, then ok (for shutdown tests)
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unordered_map>

#include "config/options.hpp"
#include "json/json_writer.hpp"
#include "runtime/worker_process.hpp"

namespace {

using anipipe::kafka::TopicPartition;
using anipipe::runtime::Handled;

class ProbeHandler final : public anipipe::runtime::RecordHandler {
public:
  ProbeHandler(std::string instance, std::string output_topic, std::string status_file)
      : instance_(std::move(instance)), output_topic_(std::move(output_topic)), status_file_(std::move(status_file)) {
    write_status();
  }

  Handled handle(const anipipe::kafka::Message& record) override {
    simdjson::dom::element doc;
    simdjson::padded_string padded(*record.value());
    if (parser_.parse(padded).get(doc)) return Handled::dead_letter("probe: unparsable after schema check");
    const std::string id{std::string_view(doc["id"])};
    const std::string_view action = doc["action"];
    const int attempt = ++attempts_[id];

    if (action == "dead") return Handled::dead_letter("probe: permanent error requested");
    if (action == "throw") throw std::runtime_error("probe: handler exception requested");
    if (action.starts_with("retry:") && attempt <= std::stoi(std::string(action.substr(6))))
      return Handled::retry_later("probe: transient error requested");
    if (action.starts_with("sleep:")) std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(std::string(action.substr(6)))));

    anipipe::kafka::OutRecord out;
    out.topic = output_topic_;
    if (auto k = record.key()) out.key = std::string(*k);
    std::string body;
    anipipe::json::Writer(body).begin_object().field("id", id).field("by", instance_).field("attempt", attempt).end_object();
    out.value = std::move(body);
    return Handled::done({std::move(out)});
  }

  void on_assigned(const std::vector<TopicPartition>& tps) override {
    assigned_.insert(tps.begin(), tps.end());
    write_status();
  }
  void on_revoked(const std::vector<TopicPartition>& tps) override {
    for (const auto& tp : tps) assigned_.erase(tp);
    write_status();
  }

private:
  // One "topic partition" per line, replaced atomically so a reader never sees half a file.
  void write_status() const {
    if (status_file_.empty()) return;
    const std::string tmp = status_file_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      for (const auto& tp : assigned_) out << tp.topic << ' ' << tp.partition << '\n';
    }
    std::filesystem::rename(tmp, status_file_);
  }

  std::string instance_, output_topic_, status_file_;
  simdjson::dom::parser parser_;
  std::unordered_map<std::string, int> attempts_;
  std::set<TopicPartition> assigned_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-probe: a scriptable test worker on the anipipe runtime"};
  anipipe::runtime::LoopSettings settings;
  settings.worker = "probe";
  std::string output_topic, status_file, instance = "probe";
  anipipe::config::add_worker_options(app, settings.options, "anipipe-probe");
  app.add_option("--input-topic", settings.topics, "Topics to consume (repeatable)")->required();
  app.add_option("--output-topic", output_topic, "Where results go")->required();
  app.add_option("--instance", instance, "Name written into each result");
  app.add_option("--status-file", status_file, "File that always lists the assigned partitions");
  app.add_option("--group-instance-id", settings.group_instance_id, "Static membership id");
  anipipe::config::parse_or_exit(app, argc, argv);

  for (const auto& t : settings.topics) settings.schema_names[t] = "anipipe.test.probe";
  settings.schema_names[output_topic] = "anipipe.test.probe_out";
  return anipipe::runtime::run_worker(std::move(settings), [&](anipipe::runtime::WorkerContext) {
    return std::make_unique<ProbeHandler>(instance, output_topic, status_file);
  });
}
