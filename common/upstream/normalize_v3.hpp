#pragma once
// AniLibria v3 WebSocket frames (docs/upstream.md, "Frames" and "v3 title object") into the
// normalized model.
#include <simdjson.h>

#include <string>

#include "upstream/isa.hpp"
#include "upstream/upstream_event.hpp"

namespace anipipe::upstream {
inline namespace ANIPIPE_UPSTREAM_ISA {
namespace v3 {

enum class FrameResult { event, unknown_type, rejected };

/// data: the frame's "data" object; type: the frame's "type".
FrameResult frame_event(std::string_view type, simdjson::ondemand::object& data, UpstreamEvent& e, std::string* why);

}  // namespace v3
}  // namespace ANIPIPE_UPSTREAM_ISA
}  // namespace anipipe::upstream
