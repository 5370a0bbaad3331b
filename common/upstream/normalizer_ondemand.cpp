// The normalizing itself, compiled once per instruction set (upstream/isa.hpp).
#include <optional>
#include <set>

#include "json/schema_check.hpp"
#include "upstream/isa.hpp"
#include "upstream/normalizer.hpp"

#include "topic_names.hpp"
#include "upstream/derived_text.hpp"
#include "upstream/lenient_json.hpp"
#include "upstream/normalize_v1.hpp"
#include "upstream/normalize_v3.hpp"
#include "upstream/upstream_event.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace {

using simdjson::ondemand::object;
namespace lj = lenient;

enum class Form { malformed, v3_frame, v3_greeting, v3_subscribe_ack, v1_schedule_item, v1_release, v1_episode, recording, unknown };

/// Walks a whole value, so every structural character, string and atom is checked once: On-Demand
/// skips what it is not asked for without validating it, and a document malformed deep inside
/// (found by the fuzzer) would otherwise derail the lookups that follow.
bool well_formed(simdjson::ondemand::value v, int depth) {
  using simdjson::ondemand::json_type;
  json_type t{};
  if (depth > 64 || v.type().get(t)) return false;
  switch (t) {
    case json_type::object: {
      object o;
      if (v.get_object().get(o)) return false;
      for (auto field : o) {
        simdjson::ondemand::raw_json_string k;
        simdjson::ondemand::value child;
        if (field.error() || field.key().get(k) || field.value().get(child) || !well_formed(child, depth + 1)) return false;
      }
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array a;
      if (v.get_array().get(a)) return false;
      for (auto element : a) {
        simdjson::ondemand::value child;
        if (element.get(child) || !well_formed(child, depth + 1)) return false;
      }
      return true;
    }
    case json_type::string: {
      // Raw, not unescaped: unescaping writes into the parser's string buffer, which is sized to
      // hold each string once, and the handlers unescape the strings they use afterwards.
      simdjson::ondemand::raw_json_string s;
      return !v.get_raw_json_string().get(s);
    }
    case json_type::number: return true;  // number syntax is checked when a number is read
    case json_type::boolean: {
      bool b;
      return !v.get_bool().get(b);
    }
    case json_type::null: {
      bool n = false;
      return !v.is_null().get(n) && n;
    }
  }
  return false;
}

/// Which upstream form an object is, from the keys it has (one pass over the whole document).
Form detect(object& obj) {
  bool type = false, data = false, connection = false, subscribe = false, release = false, schedule = false, alias = false, name = false,
       ordinal = false, message = false;
  for (auto field : obj) {
    simdjson::ondemand::raw_json_string k;
    simdjson::ondemand::value child;
    if (field.error() || field.key().get(k) || field.value().get(child) || !well_formed(child, 1)) return Form::malformed;
    if (k == "type") type = true;
    else if (k == "data") data = true;
    else if (k == "connection") connection = true;
    else if (k == "subscribe") subscribe = true;
    else if (k == "release") release = true;
    else if (k == "published_release_episode" || k == "next_release_episode_number" || k == "full_season_is_released") schedule = true;
    else if (k == "alias") alias = true;
    else if (k == "name") name = true;
    else if (k == "ordinal") ordinal = true;
    else if (k == "message") message = true;
  }
  if (type && data) return Form::v3_frame;
  if (connection) return Form::v3_greeting;
  if (subscribe) return Form::v3_subscribe_ack;
  if (message) return Form::recording;
  if (release && schedule) return Form::v1_schedule_item;
  if (alias && name) return Form::v1_release;
  if (ordinal) return Form::v1_episode;
  return Form::unknown;
}

/// Resets n for the next message, keeping the capacity of its strings.
void clear(Normalized& n) {
  n.status = Normalized::Status::rejected;
  n.reason.clear();
  n.title_id = 0;
  n.kind = {};
  n.json.clear();
  n.recorded_at.clear();
}

void reject(Normalized& n, std::string_view reason) {
  n.status = Normalized::Status::rejected;
  n.reason.assign(reason);
}

void set(Normalized& n, Normalized::Status status, std::string_view reason) {
  n.status = status;
  n.reason.assign(reason);
}

void dispatch(object& obj, Form form, std::string_view api, std::string_view endpoint, std::string_view observed_at, int depth,
              json::SchemaCheck* check, Normalized& n) {
  UpstreamEvent e;
  e.api = api;
  e.endpoint = endpoint;
  e.generation = "v1";
  std::string why;
  bool ok = false;
  switch (form) {
    case Form::v3_greeting: return set(n, Normalized::Status::ignored, "v3 greeting");
    case Form::v3_subscribe_ack: return set(n, Normalized::Status::ignored, "v3 subscribe acknowledgement");
    case Form::recording: {
      if (depth > 0) return reject(n, "a recording wrapper inside a recording wrapper");
      n.recorded_at.assign(lj::string_field(obj, "recorded_at").value_or(""));
      const std::string rec_endpoint(lj::string_field(obj, "endpoint").value_or(endpoint));
      auto inner = lj::object_field(obj, "message");
      if (!inner) return reject(n, "recording wrapper without a message object");
      const Form inner_form = detect(*inner);
      if (inner_form == Form::malformed || inner->reset().error()) return reject(n, "not JSON: truncated or malformed message");
      const std::string recorded = n.recorded_at;  // observed_at must outlive n's reuse below
      return dispatch(*inner, inner_form, api, rec_endpoint, recorded.empty() ? observed_at : std::string_view(recorded), depth + 1, check,
                      n);
    }
    case Form::v3_frame: {
      auto type = lj::string_field(obj, "type");
      if (!type) return reject(n, "v3 frame whose type is not a string");
      const std::string type_copy(*type);
      auto data = lj::object_field(obj, "data");
      if (!data) return reject(n, "v3 " + type_copy + " frame without a data object");
      const auto r = v3::frame_event(type_copy, *data, e, &why);
      if (r == v3::FrameResult::unknown_type) return set(n, Normalized::Status::unknown_type, type_copy);
      ok = r == v3::FrameResult::event;
      break;
    }
    case Form::v1_schedule_item: ok = v1::schedule_event(obj, e, &why); break;
    case Form::v1_release: ok = v1::release_event(obj, e, &why); break;
    case Form::v1_episode: ok = v1::episode_event(obj, e, &why); break;
    case Form::malformed: return reject(n, "not JSON: truncated or malformed");
    case Form::unknown: return reject(n, "not a known upstream message (no v1 release/episode/schedule or v3 frame shape)");
  }
  if (lenient::broken()) return reject(n, "not JSON: malformed inside the message");
  if (!ok) return reject(n, why);
  n.status = Normalized::Status::event;
  n.title_id = e.title_id;
  n.kind = e.kind;
  if (check) check->reset();
  serialize_event(e, observed_at, n.json, check);
}

}  // namespace

class OnDemandNormalizer final : public NormalizerBackend {
public:
  explicit OnDemandNormalizer(const json::SchemaRegistry* contract) {
    if (contract) check_.emplace(*contract, topic_names::kUpstreamEvents);
  }
  void normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint, std::string_view observed_at,
                 Normalized& n) override;

private:
  // The contract is checked while the event is written (json/schema_check.hpp), not by parsing
  // it again: that was a quarter of the normalizing.
  std::optional<json::SchemaCheck> check_;
  simdjson::ondemand::parser parser_;
};

void OnDemandNormalizer::normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint,
                                   std::string_view observed_at, Normalized& n) {
  clear(n);
  lenient::reset();
  derived_text::reset();
  simdjson::ondemand::document doc;
  if (auto err = parser_.iterate(text).get(doc)) return reject(n, std::string("not JSON: ") + simdjson::error_message(err));
  object obj;
  if (doc.get_object().get(obj)) return reject(n, "not a JSON object");
  try {
    const Form form = detect(obj);
    if (form == Form::malformed) return reject(n, "not JSON: truncated or malformed");
    // After the whole object was walked, a current location means there is more after it.
    if (!doc.current_location().error()) return reject(n, "not JSON: trailing content after the object");
    if (obj.reset().error()) return reject(n, "not JSON: cannot re-read the object");
    json::SchemaCheck* check = check_ ? &*check_ : nullptr;
    dispatch(obj, form, api, endpoint, observed_at, 0, check, n);
    if (check && n.status == Normalized::Status::event) {
      if (auto err = check->result(n.json)) reject(n, "normalized event violates schema anilibria.upstream.events: " + err->to_string());
    }
  } catch (const simdjson::simdjson_error& e) {
    clear(n);
    reject(n, std::string("malformed JSON: ") + e.what());
  }
}

std::unique_ptr<NormalizerBackend> make_ondemand_normalizer(const json::SchemaRegistry* contract) {
  return std::make_unique<OnDemandNormalizer>(contract);
}

}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
