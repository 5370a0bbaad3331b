#include "push_messages.hpp"

#include "catalog/title_document.hpp"
#include "json/json_writer.hpp"

namespace anipipe::edge {

std::shared_ptr<const std::string> push_message(std::string_view type, std::optional<std::int64_t> title_id,
                                                std::optional<StreamPosition> position, std::optional<std::string_view> data) {
  std::string out;
  json::Writer w(out);
  w.begin_object().field("type", type);
  if (title_id) w.field("title_id", *title_id);
  if (position) w.field("position", to_string(*position));
  w.key("data");
  if (data) w.raw(*data);
  else w.null();
  w.end_object();
  return std::make_shared<const std::string>(std::move(out));
}

std::optional<LivePush> new_episode_push(const kafka::Message& m, std::uint32_t epoch) {
  const auto key = m.key();
  const auto id = key ? catalog::parse_title_id(*key) : std::nullopt;
  if (!id || !m.value()) return std::nullopt;
  return LivePush{std::to_string(*id), id, push_message("new_episode", id, StreamPosition{epoch, m.partition(), m.offset()}, m.value())};
}

std::optional<LivePush> notification_push(const kafka::Message& m, std::uint32_t epoch) {
  if (!m.key() || !m.value()) return std::nullopt;
  return LivePush{std::string(*m.key()), std::nullopt,
                  push_message("notification", std::nullopt, StreamPosition{epoch, m.partition(), m.offset()}, m.value())};
}

}  // namespace anipipe::edge
