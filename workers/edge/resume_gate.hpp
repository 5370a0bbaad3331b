#pragma once
// Per stream of one WebSocket connection (a title, or the user's notifications), what keeps a
// replay and the live pushes in order with nothing twice at the seam: the last offset delivered
// (a push at or below it is dropped), and while a replay is being read the live pushes held back,
// to follow it. Used on the connection's strand only.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stream_history.hpp"

namespace anipipe::edge {

class ResumeGate {
public:
  using Messages = std::vector<std::shared_ptr<const std::string>>;
  struct Released {
    Messages replay, held;  // to send in this order
  };

  /// A stream starts: delivered up to `since` (-1: nothing yet); hold: a replay is on its way.
  /// Returns the ticket release() wants (a stream closed or opened again makes older ones stale).
  std::uint64_t open(std::int64_t stream, std::int64_t since, bool hold);
  void close(std::int64_t stream);
  /// A live push: what to send now. offset -1: a push without a position (always sent unless held).
  Messages live(std::int64_t stream, std::int64_t offset, std::shared_ptr<const std::string> message);
  /// The replay arrived (records in offset order): it, then the held pushes past it; nullopt if stale.
  std::optional<Released> release(std::int64_t stream, std::uint64_t ticket, const std::vector<Replayed>& replay);
  /// Pushes held back over all streams (bounded by the caller like its send queue).
  std::size_t held() const { return held_; }

private:
  struct Stream {
    std::uint64_t ticket = 0;
    std::int64_t last = -1;
    bool holding = false;
    std::vector<Replayed> held;
  };
  std::map<std::int64_t, Stream> streams_;
  std::uint64_t next_ticket_ = 1;
  std::size_t held_ = 0;
};

}  // namespace anipipe::edge
