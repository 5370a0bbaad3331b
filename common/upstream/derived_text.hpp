#pragma once
// Text the normalizer makes rather than finds in the payload: an id from a position, a URL from a
// host and a path, a timestamp from seconds. It is kept in this thread's arena until the next
// message, so the model (upstream_event.hpp) holds views of it as it does of the parser's strings,
// and a message costs no allocation for it.
#include <string_view>

namespace anipipe::upstream::derived_text {

/// The concatenation of the parts, valid until the next reset() on this thread.
std::string_view keep(std::string_view a, std::string_view b = {}, std::string_view c = {});
/// At the start of each message (Normalizer::normalize): the arena's space is reused.
void reset();

}  // namespace anipipe::upstream::derived_text
