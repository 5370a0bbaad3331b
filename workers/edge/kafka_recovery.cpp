#include "kafka_recovery.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "kafka/partition_range.hpp"

namespace anipipe::edge {

KafkaRecovery::KafkaRecovery(kafka::Settings settings, Source titles, Source notifications, std::size_t max_pending)
    : settings_(std::move(settings)), titles_(std::move(titles)), notifications_(std::move(notifications)), max_pending_(max_pending) {}

KafkaRecovery::~KafkaRecovery() { pool_.join(); }

void KafkaRecovery::fetch(Stream stream, std::string key, StreamPosition since, const RecoveryPlan& plan,
                          std::function<void(Result)> done) {
  if (pending_.fetch_add(1) >= max_pending_) {
    --pending_;
    done({"unavailable", {}});  // a reconnect storm is answered with gaps, not an unbounded queue
    return;
  }
  const auto& source = stream == Stream::titles ? titles_ : notifications_;
  boost::asio::post(pool_, [this, &source, key = std::move(key), since, plan, done = std::move(done)] {
    auto result = read(source, key, since, plan);
    --pending_;
    done(std::move(result));
  });
}

KafkaRecovery::Result KafkaRecovery::read(const Source& source, const std::string& key, const StreamPosition& since,
                                          const RecoveryPlan& plan) const {
  Result out;
  try {
    const auto range = kafka::read_range(settings_, source.topic, plan.partition, plan.from, plan.to, [&](const kafka::Message& m) {
      if (auto push = source.format(m, since.epoch); push && push->key == key) out.records.emplace_back(m.offset(), push->message);
    });
    if (plan.from < range.log_start) out.gap_reason = "retention";
    else if (since.offset >= range.log_end) out.gap_reason = "epoch";  // a record this log never had
  } catch (const std::exception& e) {
    spdlog::warn("{}[{}] from {}: recovery failed: {}", source.topic, plan.partition, plan.from, e.what());
    out.gap_reason = "unavailable";
  }
  if (!out.gap_reason.empty()) out.records.clear();
  return out;
}

}  // namespace anipipe::edge
