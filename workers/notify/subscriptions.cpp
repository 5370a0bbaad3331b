#include "subscriptions.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

namespace anipipe::notify {

Subscriptions::Subscriptions(const kafka::Settings& settings, const std::string& topic, prometheus::Registry* metrics) {
  if (metrics) {
    rejected_ = &prometheus::BuildCounter()
                     .Name("anipipe_notify_subscriptions_rejected_total")
                     .Help("Malformed subscription records ignored")
                     .Register(*metrics)
                     .Add({});
    size_ = &prometheus::BuildGauge().Name("anipipe_notify_subscriptions").Help("Durable subscriptions held").Register(*metrics).Add({});
  }
  follower_ = std::make_unique<kafka::TopicFollower>(settings, topic, [this](const kafka::Message& m) {
    if (auto why = table_.apply(m.key(), m.value())) {
      spdlog::warn("ignoring subscription {}[{}]@{}: {}", m.topic(), m.partition(), m.offset(), *why);
      if (rejected_) rejected_->Increment();
    }
  });
}

void Subscriptions::catch_up(std::chrono::milliseconds timeout) {
  follower_->catch_up(timeout);
  if (size_) size_->Set(static_cast<double>(table_.subscriptions()));
}

}  // namespace anipipe::notify
