#pragma once
// The title model, once: the fields of a title and its episodes as anilibria.titles carries them
// (schemas/anilibria.titles.schema.json), parameterised over how text is held. Owning text
// (std::string) is catalog::TitleDocument, kept in sync's state and the edge's catalog; viewed text
// (std::string_view) is ingest's upstream::Title, built per observation and serialized at once,
// and cache's TitleView, read in place from a record. title_reader.hpp reads any of them and
// title_json.hpp writes any of them, so a field added here is added everywhere.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anipipe::catalog {

template <class Text>
struct BasicEpisode {
  Text id;  // upstream UUID, or "v3-<title>-<ordinal>" when v3 sends none
  double ordinal = 0;
  std::optional<Text> name;
  std::optional<std::int64_t> duration;
  std::optional<Text> hls_480, hls_720, hls_1080;
  std::optional<Text> updated_at;
  bool operator==(const BasicEpisode&) const = default;
};

template <class Text>
struct BasicTitle {
  std::int64_t id = 0;
  Text alias;
  Text name_ru;
  std::optional<Text> name_en, name_alternative;
  std::optional<Text> type;
  std::optional<std::int64_t> year;
  std::optional<Text> season;  // winter|spring|summer|autumn
  Text status = "unknown";     // ongoing|finished|announced|unknown
  std::vector<Text> genres;
  std::optional<Text> description;
  bool has_poster = false;
  std::optional<Text> poster_src, poster_thumbnail;
  std::optional<std::int64_t> episodes_total;
  std::vector<BasicEpisode<Text>> episodes;
  std::optional<Text> fresh_at, updated_at;
  bool operator==(const BasicTitle&) const = default;
};

}  // namespace anipipe::catalog
