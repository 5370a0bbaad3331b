#include "notification_builder.hpp"

#include "json/json_writer.hpp"
#include "subscription_table.hpp"

namespace anipipe::notify {

namespace {
// Inside a JSON string: the quoted form without its quotes.
void append_escaped(std::string& out, std::string_view s) {
  const auto at = out.size();
  json::append_quoted(out, s);
  out.erase(at, 1);
  out.pop_back();
}

constexpr std::string_view kChannelLists[8] = {"[]",
                                               R"(["topic"])",
                                               R"(["webhook"])",
                                               R"(["topic","webhook"])",
                                               R"(["websocket"])",
                                               R"(["topic","websocket"])",
                                               R"(["webhook","websocket"])",
                                               R"(["topic","webhook","websocket"])"};
}  // namespace

NotificationBuilder::NotificationBuilder(const NewEpisode& e, std::string_view created_at) {
  head_ = R"({"idempotency_key":")";
  append_escaped(head_, idempotency_key(e.title_id, e.episode_id, ""));
  middle_ = R"(","title_id":)" + std::to_string(e.title_id) + R"(,"episode":)" + e.episode_json + R"(,"title":)" + e.title_json +
            R"(,"created_at":)";
  json::append_quoted(middle_, created_at);
  middle_ += R"(,"subscriber_id":")";
}

void NotificationBuilder::build(std::string_view subscriber_id, std::uint8_t channels, std::string& out) const {
  out.assign(head_);
  append_escaped(out, subscriber_id);
  out += middle_;
  append_escaped(out, subscriber_id);
  out += R"(","channels":)";
  out += kChannelLists[channels & kAllChannels];
  out += '}';
}

}  // namespace anipipe::notify
