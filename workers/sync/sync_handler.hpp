#pragma once
// sync's per-record logic (runs inside the exactly-once loop):
//   upstream event carrying a title snapshot -> compare with the catalog -> titles + new_episode;
//   sync request -> a result in sync_results (from the catalog; fetching from the upstream is
//   the next step, see the README).
#include <string>

#include "catalog_state.hpp"
#include "kafka/settings.hpp"
#include "runtime/outcome.hpp"

namespace anipipe::sync {

struct SyncTopics {
  std::string events = "anilibria.upstream.events";
  std::string requests = "anilibria.sync_requests";
  std::string titles = "anilibria.titles";
  std::string new_episode = "anilibria.new_episode";
  std::string results = "anilibria.sync_results";
};

class SyncHandler final : public runtime::RecordHandler {
public:
  SyncHandler(kafka::Settings kafka, SyncTopics topics) : kafka_(std::move(kafka)), topics_(std::move(topics)) {}

  runtime::Handled handle(const kafka::Message& record) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;
  void on_transaction_aborted(const std::vector<kafka::TopicPartition>& tps) override;

  const CatalogState& state() const { return state_; }

private:
  runtime::Handled on_event(const kafka::Message& record);
  runtime::Handled on_request(const kafka::Message& record);
  /// Re-reads the titles partitions matching these input partitions (co-partitioned by title id).
  void rebuild(const std::vector<kafka::TopicPartition>& tps);

  kafka::Settings kafka_;
  SyncTopics topics_;
  CatalogState state_;
};

}  // namespace anipipe::sync
