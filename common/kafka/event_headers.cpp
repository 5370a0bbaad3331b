#include "kafka/event_headers.hpp"

#include <cstring>

#include "util/hex.hpp"

namespace anipipe::kafka {
namespace {

bool all_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool valid_traceparent(std::string_view s) {
  if (s.size() != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') return false;
  auto version = s.substr(0, 2), trace = s.substr(3, 32), span = s.substr(36, 16), flags = s.substr(53, 2);
  if (version != "00" || !all_hex(trace) || !all_hex(span) || !all_hex(flags)) return false;
  return trace.find_first_not_of('0') != std::string_view::npos && span.find_first_not_of('0') != std::string_view::npos;
}

std::string_view write_traceparent(std::string_view trace_id, char (&out)[kTraceparentSize]) {
  std::memcpy(out, "00-", 3);
  std::memcpy(out + 3, trace_id.data(), 32);
  out[35] = '-';
  util::random_hex(out + 36, 16);
  std::memcpy(out + 52, "-01", 3);
  return {out, kTraceparentSize};
}

std::string_view EventHeaders::trace_id() const {
  return valid_traceparent(traceparent) ? std::string_view(traceparent).substr(3, 32) : std::string_view{};
}

EventHeaders EventHeaders::new_root(std::string_view producer, std::string_view correlation_id, std::string_view trace_id) {
  EventHeaders h;
  const bool usable = trace_id.size() == 32 && trace_id.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
                      trace_id.find_first_not_of('0') != std::string_view::npos;
  const std::string trace = usable ? std::string(trace_id) : util::random_hex(32);
  char traceparent[kTraceparentSize];
  h.traceparent = write_traceparent(trace, traceparent);
  h.correlation_id = correlation_id.empty() ? trace : std::string(correlation_id);
  h.producer = std::string(producer);
  return h;
}

EventHeaders EventHeaders::child(std::string_view producer, std::string_view schema, int schema_version) const {
  EventHeaders h;
  std::string_view trace = trace_id();
  if (trace.empty()) {
    h = new_root(producer, correlation_id);
  } else {
    h.traceparent = "00-" + std::string(trace) + "-" + util::random_hex(16) + "-" + traceparent.substr(53, 2);
    h.correlation_id = correlation_id.empty() ? std::string(trace) : correlation_id;
    h.producer = std::string(producer);
  }
  h.schema = std::string(schema);
  h.schema_version = std::to_string(schema_version);
  h.observed_at = observed_at;
  return h;
}

}  // namespace anipipe::kafka
