// TransactionalLoop's read-ahead on the priority topics (runtime/priority_window.hpp): what is
// consumed from them waits in the window and batches take it by priority; each commit carries the
// partition's lowest offset not handled and, in its metadata, the ranges handled ahead of it.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "kafka/fatal_error.hpp"
#include "runtime/transactional_loop.hpp"

namespace anipipe::runtime {

using namespace std::chrono_literals;

namespace {
constexpr std::array<const char*, 3> kLaneNames{"low", "normal", "high"};
}

bool TransactionalLoop::windowed(const kafka::TopicPartition& tp) const {
  return settings_.priority_window.capacity > 0 && settings_.priority_topics.count(tp.topic) != 0;
}

void TransactionalLoop::restore_window(const kafka::TopicPartition& tp) {
  std::vector<kafka::PartitionOffset> committed;
  try {
    committed = consumer_->committed({tp}, 30s);
  } catch (const std::exception& e) {
    // Without it, records handled ahead of the committed offset would be answered twice.
    throw kafka::FatalError("the committed offset of " + tp.to_string() + " could not be read: " + e.what());
  }
  const auto& c = committed.at(0);
  window_.restore(tp, c.offset, c.metadata);
  if (!c.metadata.empty())
    spdlog::info("{}: committed at {}, handled ahead of it: {} range(s)", tp.to_string(), c.offset, window_.handled(tp).ranges());
}

void TransactionalLoop::admit(kafka::Message m) {
  auto tp = m.topic_partition();
  if (!consumer_->assignment().count(tp)) return;  // revoked meanwhile: another instance's now
  if (!window_.knows(tp)) restore_window(tp);
  const auto offset = m.offset();
  switch (window_.add(tp, offset, std::string(m.key().value_or("")), handler_.priority_lane(m), std::chrono::steady_clock::now())) {
    case PriorityWindow::Arrival::added: window_records_[tp].emplace(offset, std::move(m)); break;
    case PriorityWindow::Arrival::full:
      // Fetched again from here once the window has room (resume_windowed).
      consumer_->rewind(tp, offset);
      full_.insert(std::move(tp));
      break;
    case PriorityWindow::Arrival::handled_before:
    case PriorityWindow::Arrival::stale: break;
  }
}

void TransactionalLoop::drain_priority(const std::atomic<bool>& stop) {
  // Bounded: a partition whose window is full is paused, and what was fetched for it is dropped.
  while (!stop.load()) {
    auto m = consumer_->poll_priority();
    if (!m) return;
    if (m->is_error()) {
      if (!m->is_partition_eof()) spdlog::warn("consumer: {}", m->error());
      continue;
    }
    if (paused(m->topic_partition())) continue;
    admit(std::move(*m));
  }
}

void TransactionalLoop::take_from_window(std::vector<kafka::Message>& batch) {
  if (batch.size() >= settings_.batch_max || window_.waiting() == 0) return;
  auto picks = window_.take(settings_.batch_max - batch.size(), std::chrono::steady_clock::now());
  std::vector<kafka::Message> out;
  out.reserve(picks.size() + batch.size());
  for (const auto& p : picks) {
    auto& records = window_records_.at(p.tp);
    auto it = records.find(p.offset);
    out.push_back(std::move(it->second));
    records.erase(it);
    observe_wait(p);
  }
  for (auto& m : batch) out.push_back(std::move(m));
  batch = std::move(out);
}

void TransactionalLoop::observe_wait(const PriorityWindow::Pick& p) {
  const auto lane = static_cast<std::size_t>(std::clamp(p.lane, 0, 2));
  auto key = std::make_pair(p.tp.topic, lane);
  auto it = wait_histograms_.find(key);
  if (it == wait_histograms_.end()) {
    auto& h = wait_family_->Add({{"topic", p.tp.topic}, {"priority", kLaneNames[lane]}},
                                prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    it = wait_histograms_.emplace(std::move(key), &h).first;
  }
  it->second->Observe(std::chrono::duration<double>(p.waited).count());
  if (p.overtook) overtakes_->Increment();
}

std::int64_t TransactionalLoop::rewind_window(const kafka::TopicPartition& tp, bool to_committed) {
  window_records_.erase(tp);
  full_.erase(tp);
  return to_committed ? window_.revert(tp) : window_.rewind(tp);
}

void TransactionalLoop::forget_window(const kafka::TopicPartition& tp) {
  window_.forget(tp);
  window_records_.erase(tp);
  full_.erase(tp);
}

bool TransactionalLoop::paused(const kafka::TopicPartition& tp) const {
  if (full_.count(tp)) return true;
  auto h = held_.find(tp);
  return h != held_.end() && h->second.paused;
}

void TransactionalLoop::resume_windowed() {
  // Half the capacity free before fetching again: a partition is not rewound for every record.
  for (auto it = full_.begin(); it != full_.end();) {
    if (window_.waiting(*it) > settings_.priority_window.capacity / 2 || (held_.count(*it) && held_.at(*it).paused)) {
      ++it;
      continue;
    }
    if (consumer_->resume(*it)) it = full_.erase(it);
    else ++it;
  }
}

void TransactionalLoop::register_window_metrics() {
  wait_family_ = &prometheus::BuildHistogram()
                      .Name("anipipe_priority_wait_seconds")
                      .Help("How long a record of a priority topic waited in the read-ahead window before a batch took it, by its priority")
                      .Register(metrics_.registry());
  overtakes_ = &prometheus::BuildCounter()
                    .Name("anipipe_priority_overtakes_total")
                    .Help("Records of a priority topic taken before one with a lower offset of their partition")
                    .Register(metrics_.registry())
                    .Add({});
}

}  // namespace anipipe::runtime
