#pragma once
// One anilibria.new_episode record, as much of it as the fan-out needs: the parts every
// notification and webhook call repeats are kept as ready JSON so fan-out only copies them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace anipipe::notify {

struct NewEpisode {
  std::string event_id;
  std::int64_t title_id = 0;
  std::string episode_id;
  std::string ordinal;  // the number as written, e.g. 12 or 12.5
  std::optional<std::string> episode_name;
  std::string title_ru;
  std::string alias;
  std::string episode_json;  // the episode object, minified
  std::string title_json;    // the title summary (alias, names, poster), minified
  std::string detected_at;

  /// From a value that passed anilibria.new_episode's schema; throws std::invalid_argument if a
  /// field the fan-out needs is missing anyway.
  static NewEpisode parse(std::string_view json, simdjson::dom::parser& parser);
};

/// title:episode:subscriber — the same for every delivery of one notification, so a consumer can
/// recognise a redelivery.
std::string idempotency_key(std::int64_t title_id, std::string_view episode_id, std::string_view subscriber_id);

/// The seeds' notify payload (type, title_id, episode, data, timestamp) with anipipe's additions
/// (event_id, the episode and title in detail, the audience): published on Redis, and the webhook
/// body in --webhook-format anipipe. subscribers: how many durable subscribers the title has.
std::string notify_payload(const NewEpisode& e, std::size_t subscribers);

/// Seed 001's `POST /internal/anilibria/notify` body, its keys and no others:
/// {"type":"new_episode","title_id","episode":<ordinal>,"data":{"title","episode_name"},"timestamp"}.
std::string seed001_payload(const NewEpisode& e);

}  // namespace anipipe::notify
