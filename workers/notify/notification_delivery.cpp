#include "notification_delivery.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

namespace anipipe::notify {

using namespace std::chrono_literals;

ServiceNotifications::ServiceNotifications(ServiceSettings settings, redis::Client& redis, kafka::Producer& producer,
                                           const runtime::RecordContract& contract, prometheus::Registry* metrics)
    : settings_(std::move(settings)), history_(redis, settings_.history), producer_(producer), contract_(contract) {
  if (!metrics) return;
  outcomes_ = &prometheus::BuildCounter()
                   .Name("anipipe_notify_service_notifications_total")
                   .Help(
                       "notification_events records by outcome: delivered, duplicate (its idempotency key already claimed), dead_lettered")
                   .Register(*metrics);
  effects_ = &prometheus::BuildCounter()
                  .Name("anipipe_notify_service_effects_total")
                  .Help("notification_events effects by channel and outcome")
                  .Register(*metrics);
}

void ServiceNotifications::count_outcome(const char* outcome) {
  if (outcomes_) outcomes_->Add({{"outcome", outcome}}).Increment();
}

void ServiceNotifications::count_effect(const char* channel, const char* outcome, double n) {
  if (effects_) effects_->Add({{"channel", channel}, {"outcome", outcome}}).Increment(n);
}

std::optional<std::string> ServiceNotifications::claim(std::vector<ServiceWork>& work) {
  std::vector<NotificationHistory::Claim> claims;
  std::vector<ServiceWork*> pending;
  for (auto& w : work) {
    if (w.state->claim != ServiceState::Claim::unknown) continue;
    claims.push_back(
        {w.notification, std::string(w.msg->topic()) + "/" + std::to_string(w.msg->partition()) + "/" + std::to_string(w.msg->offset())});
    pending.push_back(&w);
  }
  if (claims.empty()) return std::nullopt;
  std::vector<bool> owned;
  try {
    owned = history_.claim_and_record(claims);
  } catch (const std::exception& e) {
    count_effect("history", "unavailable");
    return std::string("redis (notification history): ") + e.what();
  }
  for (std::size_t i = 0; i < owned.size(); ++i) {
    pending[i]->state->claim = owned[i] ? ServiceState::Claim::mine : ServiceState::Claim::duplicate;
    if (owned[i]) {
      count_effect("history", "recorded");
    } else {
      count_outcome("duplicate");
      spdlog::debug("notification {} for {} is a duplicate: its idempotency key is claimed", pending[i]->notification->id,
                    pending[i]->notification->user_id);
    }
  }
  return std::nullopt;
}

std::optional<std::string> ServiceNotifications::push(std::vector<ServiceWork>& work, const std::atomic<bool>& stop) {
  struct Sent {
    ServiceWork* work;
    bool failed = false;
    std::string error;
  };
  std::vector<Sent> sent;
  sent.reserve(work.size());  // the delivery callbacks hold pointers into it
  for (auto& w : work) {
    if (w.state->pushed || w.state->claim != ServiceState::Claim::mine) continue;
    kafka::OutRecord record;
    record.topic = settings_.notifications_topic;
    record.key = w.notification->user_id;
    record.value = notification_record(*w.notification);
    if (auto why = contract_.prepare_output(w.msg->event_headers(), record)) {
      *w.dead = std::move(*why);
      w.state->pushed = true;  // it never will be: the record is dead-lettered once its other channels are done
      continue;
    }
    auto& s = sent.emplace_back(Sent{&w, false, {}});
    producer_.produce(record, [&s](const kafka::DeliveryResult& d) {
      if (!d.ok) {
        s.failed = true;
        s.error = d.error;
      }
    });
  }
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (producer_.pending() > 0) {
    producer_.flush(200ms);
    if (stop.load() && std::chrono::steady_clock::now() > give_up) return "shutting down before every notification was acknowledged";
  }
  std::optional<std::string> retry;
  for (auto& s : sent) {
    count_effect("websocket", s.failed ? "unavailable" : "produced");
    if (!s.failed) s.work->state->pushed = true;
    else if (!retry) retry = "notification " + s.work->notification->id + " not acknowledged: " + s.error;
  }
  return retry;
}

}  // namespace anipipe::notify
