#pragma once
// A whole topic as a table that stays current: every partition assigned from the beginning, no
// consumer group (each instance holds all of it). notify keeps its subscriptions this way, the
// edge its catalog. catch_up() is the read-your-writes barrier: once it returns, every record
// acknowledged before the call has been applied, so a subscription published before a new
// episode is always seen by that episode's fan-out.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kafka/message.hpp"
#include "kafka/settings.hpp"

namespace anipipe::kafka {

class TopicFollower {
public:
  /// Where reading starts: the whole topic (a table), or only what is published from now on (a feed).
  enum class From { beginning, end };
  /// Records (tombstones included) reach on_record in partition order, on the caller's thread.
  /// Throws if the topic's partitions cannot be learned within metadata_timeout.
  TopicFollower(const Settings& settings, std::string topic, std::function<void(const Message&)> on_record, From from = From::beginning,
                std::chrono::milliseconds metadata_timeout = std::chrono::seconds(30));
  ~TopicFollower();
  TopicFollower(const TopicFollower&) = delete;
  TopicFollower& operator=(const TopicFollower&) = delete;

  /// Applies every record up to each partition's high watermark as of now (the whole topic on the
  /// first call); returns how many were applied. Throws if the end is not reached within timeout.
  std::size_t catch_up(std::chrono::milliseconds timeout);
  /// Applies what has been fetched, waiting at most `wait` for the first record.
  std::size_t poll(std::chrono::milliseconds wait);
  /// Records behind the partitions' high watermarks as last fetched (no broker round trip).
  std::int64_t lag() const;
  /// Records applied since construction.
  std::uint64_t applied() const;
  /// Per partition, the offset after the last record applied (or the end seen): where the
  /// follower stands. After a first catch_up from the end, nothing before it was applied.
  std::map<std::int32_t, std::int64_t> positions() const;
  /// The id of the cluster the topic lives on (asks the broker; throws if it does not say).
  std::string cluster_id(std::chrono::milliseconds timeout) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anipipe::kafka
