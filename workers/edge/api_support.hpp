#pragma once
// What the edge's routes share: JSON responses and bodies, the Idempotency-Key as correlation id,
// what a write that did not simply succeed answers, ETags. Included by the route files only
// (http_api.cpp: routing, auth, limits; api_titles.cpp: reads; api_internal.cpp: writes).
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http_api.hpp"
#include "json/json_writer.hpp"
#include "util/hex.hpp"

namespace anipipe::edge::api {

inline constexpr std::string_view kV2 = "/api/anilibria/v2/titles", kV1 = "/api/anilibria/v1/titles";
inline thread_local simdjson::dom::parser t_parser;  // one per I/O thread

inline bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  for (std::size_t i = 0; i < if_none_match.size();) {
    auto end = std::min(if_none_match.find(',', i), if_none_match.size());
    auto tag = if_none_match.substr(i, end - i);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison, as If-None-Match uses
    if (tag == etag) return true;
    i = end + 1;
  }
  return false;
}

template <class T>
std::optional<T> parse_int(std::string_view s) {
  T v{};
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::string correlation_id() { return "edge-" + util::random_hex(32); }

/// The caller's Idempotency-Key as the write's correlation id (so a retry is recognisable to the
/// consumers, which drop what they already applied), or a new one. nullopt: not a usable key.
inline std::optional<std::string> correlation_for(const HttpRequest& r) {
  if (r.idempotency_key.empty()) return correlation_id();
  if (r.idempotency_key.size() > 100 || !std::all_of(r.idempotency_key.begin(), r.idempotency_key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
      }))
    return std::nullopt;
  return std::string(r.idempotency_key);
}

inline HttpResponse bad_idempotency_key() {
  return Api::error(400, "invalid_idempotency_key", "Idempotency-Key is 1 to 100 letters, digits, '-', '_', '.' or ':'");
}

/// What a write that did not simply succeed answers: 422 (refused by its contract), 503 with
/// Retry-After (certainly not written: safe to retry), 202 pending (timed out in flight: the
/// broker may have it; a retry with the same Idempotency-Key is safe). nullopt when written.
inline std::optional<HttpResponse> unless_written(const WriteOutcome& w, std::string_view cid) {
  switch (w.status) {
    case WriteOutcome::Status::written: return std::nullopt;
    case WriteOutcome::Status::invalid: return Api::error(422, "invalid_body", w.detail);
    case WriteOutcome::Status::unavailable: {
      auto r = Api::error(503, "unavailable", "not written, and it will not be: " + w.detail);
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    case WriteOutcome::Status::pending: {
      std::string out;
      json::Writer(out)
          .begin_object()
          .field("correlation_id", cid)
          .field("status", "pending")
          .field("detail",
                 "the broker may or may not have it (" + w.detail + "); retrying with Idempotency-Key: " + std::string(cid) + " is safe")
          .end_object();
      HttpResponse r;
      r.status = 202;
      r.body = std::move(out);
      return r;
    }
  }
  return std::nullopt;
}

inline HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline bool is_json(std::string_view content_type) {
  const auto semi = content_type.find(';');
  auto base = content_type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower(base);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "application/json";
}

// The JSON object body of an internal call, or the response refusing it.
inline std::variant<simdjson::dom::object, HttpResponse> json_body(const HttpRequest& r) {
  if (!is_json(r.content_type)) return Api::error(415, "unsupported_media_type", "the body must be application/json");
  simdjson::dom::element doc;
  if (auto err = t_parser.parse(r.body.data(), r.body.size()).get(doc))
    return Api::error(400, "invalid_json", std::string("the body is not JSON: ") + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (doc.get(obj)) return Api::error(400, "invalid_json", "the body must be a JSON object");
  return obj;
}

inline std::optional<std::string> unknown_field(const simdjson::dom::object& obj, std::initializer_list<std::string_view> known) {
  for (auto [k, v] : obj)
    if (std::find(known.begin(), known.end(), k) == known.end()) return std::string(k);
  return std::nullopt;
}

}  // namespace anipipe::edge::api
