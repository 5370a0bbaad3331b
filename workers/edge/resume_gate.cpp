#include "resume_gate.hpp"

namespace anipipe::edge {

std::uint64_t ResumeGate::open(std::int64_t stream, std::int64_t since, bool hold) {
  close(stream);
  auto& s = streams_[stream];
  s.ticket = next_ticket_++;
  s.last = since;
  s.holding = hold;
  return s.ticket;
}

void ResumeGate::close(std::int64_t stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  held_ -= it->second.held.size();
  streams_.erase(it);
}

ResumeGate::Messages ResumeGate::live(std::int64_t stream, std::int64_t offset, std::shared_ptr<const std::string> message) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return {std::move(message)};
  auto& s = it->second;
  if (s.holding) {
    s.held.emplace_back(offset, std::move(message));
    ++held_;
    return {};
  }
  if (offset < 0) return {std::move(message)};
  if (offset <= s.last) return {};  // delivered already (replayed, or before the client came back)
  s.last = offset;
  return {std::move(message)};
}

std::optional<ResumeGate::Released> ResumeGate::release(std::int64_t stream, std::uint64_t ticket, const std::vector<Replayed>& replay) {
  auto it = streams_.find(stream);
  if (it == streams_.end() || it->second.ticket != ticket || !it->second.holding) return std::nullopt;
  auto& s = it->second;
  Released out;
  for (const auto& [offset, message] : replay)
    if (offset > s.last) {
      s.last = offset;
      out.replay.push_back(message);
    }
  s.holding = false;
  held_ -= s.held.size();
  auto held = std::move(s.held);
  s.held.clear();
  for (auto& [offset, message] : held)
    for (auto& m : live(stream, offset, std::move(message))) out.held.push_back(std::move(m));
  return out;
}

}  // namespace anipipe::edge
