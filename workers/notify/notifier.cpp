#include "notifier.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>

#include "notification_builder.hpp"
#include "util/clock.hpp"

namespace anipipe::notify {

using namespace std::chrono_literals;

namespace {
const char* verdict_name(TitleChanges::Verdict v) {
  switch (v) {
    case TitleChanges::Verdict::first: return "first";
    case TitleChanges::Verdict::changed: return "changed";
    case TitleChanges::Verdict::unchanged: return "unchanged";
    case TitleChanges::Verdict::removed: return "removed";
  }
  return "?";
}

const char* outcome_name(WebhookResult::Kind kind) {
  switch (kind) {
    case WebhookResult::Kind::delivered: return "delivered";
    case WebhookResult::Kind::rejected: return "rejected";
    case WebhookResult::Kind::failed: return "failed";
    case WebhookResult::Kind::down: return "down";
    case WebhookResult::Kind::unauthorized: return "unauthorized";
  }
  return "?";
}
}  // namespace

Notifier::Notifier(NotifierSettings settings, Subscriptions& subscriptions, kafka::Producer& producer, WebhookSender* webhooks,
                   redis::Client* redis, TitleChanges* titles, ServiceNotifications* services, const runtime::RecordContract& contract,
                   prometheus::Registry* metrics, const std::atomic<bool>& stop)
    : settings_(std::move(settings)), subscriptions_(subscriptions), producer_(producer), webhooks_(webhooks), redis_(redis),
      titles_(titles), services_(services), contract_(contract), stop_(stop) {
  if (metrics) {
    effects_ =
        &prometheus::BuildCounter().Name("anipipe_notify_effects_total").Help("Fan-out effects by channel and outcome").Register(*metrics);
    title_effects_ = &prometheus::BuildCounter()
                          .Name("anipipe_notify_title_updated_total")
                          .Help("title_updated effects by channel and outcome")
                          .Register(*metrics);
    title_changes_ = &prometheus::BuildCounter()
                          .Name("anipipe_notify_title_changes_total")
                          .Help("anilibria.titles records by verdict: changed (announced), unchanged, first, removed")
                          .Register(*metrics);
  }
  if (settings_.round_size == 0) settings_.round_size = 1;
}

void Notifier::count(Kind kind, const char* channel, const char* outcome, double n) {
  if (kind == Kind::service) {
    if (services_) services_->count_effect(channel, outcome, n);
    return;
  }
  auto* family = kind == Kind::new_episode ? effects_ : title_effects_;
  if (family) family->Add({{"channel", channel}, {"outcome", outcome}}).Increment(n);
}

runtime::BatchResult Notifier::handle_batch(const std::vector<const kafka::Message*>& records) {
  runtime::BatchResult result;
  using Clock = std::chrono::steady_clock;
  const auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
  auto t = Clock::now();
  subscriptions_.catch_up(settings_.subscriptions_timeout);  // throws: the batch is retried
  const double catch_up_ms = ms_since(t);
  auto items = collect(records, result);

  // Every channel is tried even when an earlier one must be retried: one sink's outage does not
  // hold back the others (what succeeded is not repeated on the retry).
  std::vector<std::string> retry;
  if (auto why = claim_services(items)) retry.push_back(*why);
  t = Clock::now();
  if (auto why = publish(items)) retry.push_back(*why);
  const double publish_ms = ms_since(t);
  t = Clock::now();
  if (auto why = call_webhooks(items)) retry.push_back(*why);
  const double webhooks_ms = ms_since(t);
  if (auto why = push_services(items)) retry.push_back(*why);
  t = Clock::now();
  if (auto why = fan_out(items)) retry.push_back(*why);
  spdlog::debug("batch of {}: subscriptions {:.1f} ms, redis {:.1f} ms, webhooks {:.1f} ms, fan-out {:.1f} ms", records.size(), catch_up_ms,
                publish_ms, webhooks_ms, ms_since(t));
  if (!retry.empty()) {
    std::string reason;
    for (const auto& r : retry) reason += (reason.empty() ? "" : "; ") + r;
    return runtime::BatchResult::retry_later(reason);
  }
  count_done(items);
  for (const auto& item : items)
    if (item.progress->dead) result.dead_letters.emplace_back(item.index, *item.progress->dead);
  for (const auto* msg : records) progress_.erase({std::string(msg->topic()), msg->partition(), msg->offset()});
  return result;
}

std::vector<Notifier::Item> Notifier::collect(const std::vector<const kafka::Message*>& records, runtime::BatchResult& result) {
  if (titles_) {
    std::vector<std::pair<std::int32_t, std::int64_t>> title_records;
    for (const auto* msg : records)
      if (msg->topic() == settings_.titles_topic) title_records.emplace_back(msg->partition(), msg->offset());
    titles_->prepare(title_records);  // throws: the batch is retried
  }
  std::vector<Item> items;
  items.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto* msg = records[i];
    auto& progress = progress_[{std::string(msg->topic()), msg->partition(), msg->offset()}];
    try {
      std::optional<Item> item;
      if (services_ && msg->topic() == settings_.events_topic) item = service_item(*msg, progress);
      else item = titles_ && msg->topic() == settings_.titles_topic ? title_item(*msg, progress) : episode_item(*msg);
      if (!item) continue;
      item->index = i;
      item->msg = msg;
      item->progress = &progress;
      items.push_back(std::move(*item));
    } catch (const std::exception& e) {
      result.dead_letters.emplace_back(i, e.what());
      if (services_ && msg->topic() == settings_.events_topic) services_->count_outcome("dead_lettered");
    }
  }
  return items;
}

std::optional<Notifier::Item> Notifier::episode_item(const kafka::Message& msg) {
  Item item;
  item.episode = NewEpisode::parse(msg.value().value_or(""), parser_);
  item.audience = subscriptions_.table().audience(item.episode.title_id);
  item.event_id = item.episode.event_id;
  item.payload = notify_payload(item.episode, item.audience ? item.audience->size() : 0);
  if (settings_.webhook_format == WebhookFormat::seed001) item.body = seed001_payload(item.episode);
  else item.body = item.payload;
  return item;
}

void Notifier::judge(const kafka::Message& msg, Progress& progress) {
  const auto key = msg.key().value_or("");
  std::int64_t title_id = 0;
  if (std::from_chars(key.data(), key.data() + key.size(), title_id).ec != std::errc())
    throw std::invalid_argument("a title record's key is not a title id");
  const auto seen = titles_->observe(msg.partition(), title_id, msg.value());
  if (title_changes_) title_changes_->Add({{"verdict", verdict_name(seen.verdict)}}).Increment();
  progress.changed_hash.emplace();
  if (seen.verdict == TitleChanges::Verdict::changed) *progress.changed_hash = seen.hash;
}

std::optional<Notifier::Item> Notifier::title_item(const kafka::Message& msg, Progress& progress) {
  if (!progress.changed_hash) judge(msg, progress);
  if (!*progress.changed_hash) return std::nullopt;
  const auto update = TitleUpdate::parse(msg.value().value_or(""), **progress.changed_hash, msg.timestamp_ms(), parser_);
  Item item;
  item.kind = Kind::title_updated;
  item.event_id = update.event_id();
  item.payload = title_updated_payload(update);
  if (settings_.webhook_format == WebhookFormat::seed001) item.body = seed001_title_updated(update);
  else item.body = item.payload;
  progress.fanned_out = true;  // no durable subscribers are told of a title's change
  return item;
}

Notifier::Item Notifier::service_item(const kafka::Message& msg, Progress& progress) {
  Item item;
  item.kind = Kind::service;
  item.service = ServiceNotification::parse(msg.value().value_or(""), parser_);
  item.event_id = item.service->idempotency_key;
  item.payload = item.body = notification_payload(*item.service);
  // The channels it does not ask for are done; no durable subscribers are told of it.
  const auto channels = item.service->channels;
  progress.published = progress.published || !(channels & kChannelRedis) || services_->settings().redis_channel.empty();
  progress.called = progress.called || !(channels & kChannelWebhook);
  progress.service.pushed = progress.service.pushed || !(channels & kChannelWebsocket);
  progress.fanned_out = true;
  return item;
}

const std::string& Notifier::redis_channel_of(const Item& item) const {
  if (item.kind == Kind::service) return services_->settings().redis_channel;
  return item.kind == Kind::new_episode ? settings_.redis_channel : settings_.title_redis_channel;
}

std::vector<ServiceWork> Notifier::service_work(std::vector<Item>& items) {
  std::vector<ServiceWork> work;
  for (auto& item : items)
    if (item.kind == Kind::service) work.push_back({item.msg, &*item.service, &item.progress->service, &item.progress->dead});
  return work;
}

std::optional<std::string> Notifier::claim_services(std::vector<Item>& items) {
  if (!services_) return std::nullopt;
  auto work = service_work(items);
  auto why = work.empty() ? std::nullopt : services_->claim(work);
  std::erase_if(items, [](const Item& i) { return i.kind == Kind::service && i.progress->service.claim != ServiceState::Claim::mine; });
  return why;
}

std::optional<std::string> Notifier::push_services(std::vector<Item>& items) {
  if (!services_) return std::nullopt;
  auto work = service_work(items);
  return work.empty() ? std::nullopt : services_->push(work, stop_);
}

void Notifier::count_done(const std::vector<Item>& items) {
  if (!services_) return;
  for (const auto& item : items)
    if (item.kind == Kind::service) services_->count_outcome(item.progress->dead ? "dead_lettered" : "delivered");
}

std::optional<std::string> Notifier::publish(std::vector<Item>& items) {
  if (!redis_) return std::nullopt;
  std::vector<redis::Command> commands;
  std::vector<Item*> pending;
  for (auto& item : items) {
    const auto& channel = redis_channel_of(item);
    if (item.progress->published || channel.empty()) continue;
    commands.push_back({"PUBLISH", channel, item.payload});
    pending.push_back(&item);
  }
  if (commands.empty()) return std::nullopt;
  try {
    const auto replies = redis_->pipeline(commands);
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].is_error()) return "redis refused PUBLISH: " + replies[i].str;
      pending[i]->progress->published = true;
      count(pending[i]->kind, "redis", "published");
    }
  } catch (const std::exception& e) {
    count(pending.front()->kind, "redis", "unavailable");
    return std::string("redis: ") + e.what();
  }
  return std::nullopt;
}

std::optional<std::string> Notifier::call_webhooks(std::vector<Item>& items) {
  if (!webhooks_) return std::nullopt;
  std::vector<WebhookCall> calls;
  std::vector<Item*> pending;
  for (auto& item : items) {
    if (item.progress->called || item.progress->dead) continue;
    calls.push_back({item.event_id, item.body});
    pending.push_back(&item);
  }
  if (calls.empty()) return std::nullopt;
  const auto results = webhooks_->send(calls, stop_);
  std::optional<std::string> retry;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& p = *pending[i]->progress;
    const auto& r = results[i];
    switch (r.kind) {
      case WebhookResult::Kind::delivered: p.called = true; break;
      case WebhookResult::Kind::rejected: p.dead = r.detail; break;
      case WebhookResult::Kind::failed:
        if (++p.webhook_failures >= settings_.webhook_max_attempts)
          p.dead = r.detail + " (" + std::to_string(p.webhook_failures) + " attempts)";
        else if (!retry) retry = r.detail;
        break;
      case WebhookResult::Kind::down:
      case WebhookResult::Kind::unauthorized:
        if (!retry) retry = r.detail;
        break;
    }
    count(pending[i]->kind, "webhook", outcome_name(r.kind));
  }
  return retry;
}

std::optional<std::string> Notifier::fan_out(std::vector<Item>& items) {
  struct Job {
    Item* item;
    NotificationBuilder builder;
    SubscriptionTable::Audience::const_iterator next, end;
    kafka::OutRecord record;
    bool failed = false;
    std::string error;
  };
  const auto created_at = util::now_rfc3339();
  std::vector<Job> jobs;
  jobs.reserve(items.size());
  for (auto& item : items) {
    if (item.progress->fanned_out) continue;
    const auto* audience = item.audience;
    if (!audience) {
      item.progress->fanned_out = true;
      continue;
    }
    Job job{&item, NotificationBuilder(item.episode, created_at), audience->begin(), audience->end(), {}, false, {}};
    job.record.topic = settings_.notifications_topic;
    job.record.value.emplace();
    job.record.key.emplace();
    // The first notification gets the headers and is checked against the contract; the rest
    // share its headers and its shape.
    job.builder.build(job.next->first, job.next->second, *job.record.value);
    if (auto why = contract_.prepare_output(item.msg->event_headers(), job.record)) {
      item.progress->dead = std::move(*why);
      continue;
    }
    jobs.push_back(std::move(job));
  }

  std::size_t produced = 0;
  for (bool more = true; more && !jobs.empty();) {
    more = false;
    for (auto& job : jobs) {
      for (std::size_t n = 0; n < settings_.round_size && job.next != job.end; ++n, ++job.next) {
        job.builder.build(job.next->first, job.next->second, *job.record.value);
        job.record.key->assign(job.next->first);
        producer_.produce(job.record, [&job](const kafka::DeliveryResult& d) {
          if (!d.ok && !job.failed) {
            job.failed = true;
            job.error = d.error;
          }
        });
        ++produced;
      }
      more = more || job.next != job.end;
    }
    producer_.poll(0ms);
  }
  // Every notification acknowledged before the batch counts as done. A shutdown waits a bounded
  // time, then leaves the rest to the next owner of the partition (consumed again).
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (producer_.pending() > 0) {
    producer_.flush(200ms);
    if (stop_.load() && std::chrono::steady_clock::now() > give_up) return "shutting down before every notification was acknowledged";
  }
  std::optional<std::string> retry;
  std::size_t failed = 0;
  for (auto& job : jobs) {
    if (job.failed) {
      ++failed;
      if (!retry) retry = "notifications for title " + std::to_string(job.item->episode.title_id) + " not acknowledged: " + job.error;
    } else {
      job.item->progress->fanned_out = true;
    }
  }
  if (effects_ && produced) effects_->Add({{"channel", "topic"}, {"outcome", "produced"}}).Increment(static_cast<double>(produced));
  if (failed) spdlog::warn("{} of {} fan-outs not acknowledged", failed, jobs.size());
  return retry;
}

void Notifier::on_assigned(const std::vector<kafka::TopicPartition>& tps) {
  // Consumption resumes from the group's offset, which may be behind what this instance once knew.
  for (const auto& tp : tps)
    if (titles_ && tp.topic == settings_.titles_topic) titles_->drop_partition(tp.partition);
}

void Notifier::on_revoked(const std::vector<kafka::TopicPartition>& tps) {
  for (const auto& tp : tps) {
    if (titles_ && tp.topic == settings_.titles_topic) titles_->drop_partition(tp.partition);
    for (auto it = progress_.begin(); it != progress_.end();)
      it = std::get<0>(it->first) == tp.topic && std::get<1>(it->first) == tp.partition ? progress_.erase(it) : std::next(it);
  }
}

}  // namespace anipipe::notify
