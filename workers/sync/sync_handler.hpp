#pragma once
// sync's per-record logic, inside the exactly-once loop:
//   upstream event with a complete title   -> compare with the catalog -> titles + new_episode;
//   upstream event with a partial title (v1 lists only the latest episode) that may hide changes
//   (title_change.hpp: may_hide_changes)   -> fetch the full release, then the same;
//   upstream event that only says something changed (an episode published, an encode finished, a
//   title removed, a reconciliation sweep) -> fetch the full title from the upstream, then the same;
//   sync request                           -> fetch (unless fetched within --fresh-for and not
//                                             forced), the same, and one result in sync_results.
// An episode is new once per (title, ordinal). A title first seen through the sweep enters the
// catalog quietly (its history is not news); everything else new is announced.
// Fetches for a whole batch go out together before it is handled (prepare_batch), many in flight.
// The upstream down: events retry (the partition pauses, others move on, nothing is skipped);
// requests retry until --request-wait has passed since they were published, then get
// upstream_unavailable with the reason, so a caller waiting on the result hears back in bounded time.
// A request the loop dead-letters (it breaks its schema, so handle() never sees it) is also answered
// `rejected` with the reason, in the same transaction, when it says who waits: a caller hears back
// at once instead of at its timeout.
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "catalog_state.hpp"
#include "kafka/settings.hpp"
#include "runtime/handler.hpp"
#include "title_fetcher.hpp"
#include "topic_names.hpp"

namespace anipipe::sync {

struct SyncTopics {
  std::string events = topic_names::kUpstreamEvents;
  std::string requests = topic_names::kSyncRequests;
  std::string titles = topic_names::kTitles;
  std::string new_episode = topic_names::kNewEpisode;
  std::string results = topic_names::kSyncResults;
};

struct SyncOptions {
  SyncTopics topics;
  /// A request that is not forced, for a title fetched this recently, is answered from the catalog
  /// (a burst of requests for one title costs the upstream one call).
  std::chrono::milliseconds fresh_for{60'000};
  /// How long a request may wait for an unavailable upstream before it is answered upstream_unavailable.
  std::chrono::milliseconds request_wait{30'000};
};

class SyncHandler final : public runtime::TransactionalHandler {
public:
  SyncHandler(kafka::Settings kafka, SyncOptions options, TitleFetcher& fetcher, const std::atomic<bool>& stop)
      : kafka_(std::move(kafka)), options_(std::move(options)), fetcher_(fetcher), stop_(stop) {}

  void prepare_batch(const std::vector<kafka::Message>& batch) override;
  runtime::Handled handle(const kafka::Message& record) override;
  void on_assigned(const std::vector<kafka::TopicPartition>& tps) override;
  void on_revoked(const std::vector<kafka::TopicPartition>& tps) override;
  void on_transaction_aborted(const std::vector<kafka::TopicPartition>& tps) override;
  /// A refused request's `rejected` result, keyed by its correlation id (the value's, else the
  /// correlation-id header); nothing for an event or a request that names no correlation id.
  std::vector<kafka::OutRecord> on_dead_letter(const kafka::Message& record, std::string_view reason) override;
  /// A request's `priority`: low 0, normal 1, high 2 (anything else normal: the schema refuses it later).
  int priority_lane(const kafka::Message& record) override;

  const CatalogState& state() const { return state_; }

private:
  /// What one record asks for.
  struct Observed {
    std::string error;  // not empty: the record cannot be read
    bool request = false;
    std::int64_t title_id = 0;
    std::string kind;
    std::optional<catalog::TitleDocument> snapshot;  // events: the carried title, if any
    bool complete = false;                           // the snapshot lists every episode (episodes_complete)
    bool force = false;
    std::string correlation_id;
  };
  using ObservedKey = std::tuple<bool, std::int32_t, std::int64_t>;  // request?, partition, offset
  Observed observe(const kafka::Message& record);
  /// The batch's parse of this record (prepare_batch), or a fresh one.
  Observed take_observed(const kafka::Message& record);
  runtime::Handled on_event(const kafka::Message& record, const Observed& o);
  runtime::Handled on_request(const kafka::Message& record, const Observed& o);
  /// Applies an observed title: the catalog's new version and new episodes, if anything changed.
  /// True if the catalog changed (titles + new_episode records in out).
  bool apply_title(std::int32_t partition, const catalog::TitleDocument& doc, bool republish, std::vector<kafka::OutRecord>& out,
                   std::size_t* new_episodes, bool announce = true);
  /// Whether handling this record needs the full release from the upstream.
  bool needs_fetch(const Observed& o) const;
  /// An event whose title must come from the upstream: the fetched release (with what a partial
  /// snapshot saw) into the catalog, a tombstone if it is gone, a retry while it is unavailable.
  runtime::Handled apply_fetched(const kafka::Message& record, const Observed& o);
  /// The title is gone upstream: a tombstone if the catalog had it.
  bool remove_title(std::int32_t partition, std::int64_t id, std::vector<kafka::OutRecord>& out);
  bool fresh(std::int64_t id) const;
  /// Re-reads the titles partitions matching these input partitions (co-partitioned by title id).
  void rebuild(const std::vector<kafka::TopicPartition>& tps);

  kafka::Settings kafka_;
  SyncOptions options_;
  TitleFetcher& fetcher_;
  const std::atomic<bool>& stop_;
  CatalogState state_;
  /// This batch's upstream answers, and its records as prepare_batch read them.
  std::unordered_map<std::int64_t, Fetched> fetched_;
  std::map<ObservedKey, Observed> observed_;
  /// When each title was last fetched successfully (found or gone).
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> fetched_at_;
  /// Requests without a timestamp: when they were first tried (their wait counts from there).
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> first_attempt_;
};

}  // namespace anipipe::sync
