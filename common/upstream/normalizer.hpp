#pragma once
// Every upstream form into one anilibria.upstream.events value
// (docs/upstream.md, "What each form becomes"):
//   v1 release (releases/latest item or full release), v1 episode, v1 schedule item,
//   v3 WebSocket frames (title_update, playlist_update, encode_*, torrent_update),
//   and a recording wrapper {"recorded_at", "endpoint", "message"} around any of them.
// Greetings and subscribe acks are recognised and ignored; unknown v3 types are reported so the
// caller can count them; anything else that cannot be normalized is rejected with a reason.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <optional>

#include "json/schema.hpp"
#include "upstream/upstream_event.hpp"

namespace anipipe::upstream {

struct Normalized {
  enum class Status { event, ignored, unknown_type, rejected };
  Status status = Status::rejected;
  std::string reason;  // rejected: why; ignored: what it was; unknown_type: the type
  std::int64_t title_id = 0;
  std::string_view kind;    // a literal
  std::string json;         // the event (status == event)
  std::string recorded_at;  // from a recording wrapper, if any

  /// The content-derived id (status == event), a view into json.
  std::string_view event_id() const { return status == Status::event ? event_id_of(json) : std::string_view{}; }
};

/// A line of a text loaded whole (a recording) as simdjson wants it: the rest of the text is its
/// padding, so nothing is copied per line.
inline simdjson::padded_string_view padded_line(std::string_view line, const simdjson::padded_string& text) {
  const std::size_t capacity = static_cast<std::size_t>(text.data() + text.size() - line.data()) + simdjson::SIMDJSON_PADDING;
  return simdjson::padded_string_view(line.data(), line.size(), capacity);
}

/// One instruction set's copy of the normalizing (upstream/isa.hpp).
class NormalizerBackend {
public:
  virtual ~NormalizerBackend() = default;
  virtual void normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint, std::string_view observed_at,
                         Normalized& n) = 0;
};

class Normalizer {
public:
  /// contract: if given, every event is checked against its anilibria.upstream.events schema
  /// here, on the thread that normalized it, and one that violates it is rejected with the reason
  /// (so its raw input is dead-lettered for a fix and a re-drive).
  /// Runs the copy compiled for this CPU ("haswell" where AVX2 and BMI2 are there, else
  /// "generic"); $ANIPIPE_UPSTREAM_ISA=generic chooses the portable one (benchmarks, tests).
  explicit Normalizer(const json::SchemaRegistry* contract = nullptr);
  ~Normalizer();
  Normalizer(Normalizer&&) noexcept;
  Normalizer& operator=(Normalizer&&) noexcept;

  /// api: how the message arrived (v1, v3, replay); endpoint: where from (may be empty);
  /// observed_at: RFC 3339 time of observation (a wrapper's recorded_at wins).
  Normalized normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint, std::string_view observed_at);
  /// The same into n, reusing its buffers (the hot path: no allocation per message).
  void normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint, std::string_view observed_at,
                 Normalized& n) {
    backend_->normalize(text, api, endpoint, observed_at, n);
  }
  /// Copies into a padded buffer first (tests, small inputs).
  Normalized normalize_copy(std::string_view text, std::string_view api, std::string_view endpoint, std::string_view observed_at);
  /// The instruction set of the copy in use: "haswell" or "generic".
  const char* isa() const { return isa_; }

private:
  std::unique_ptr<NormalizerBackend> backend_;
  const char* isa_ = "generic";
};

}  // namespace anipipe::upstream
