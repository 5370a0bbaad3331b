#pragma once
// A titles record read in place: the fields cache needs (the v1 format, the indexes) as views into
// the parser that read it, with TitleDocument's names and reading rules (catalog/title_reader),
// but without copying the document into an owning one. cache reads every record of a replay or
// rebuild once; the copies were a quarter of its time.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anipipe::cache {

struct EpisodeView {
  std::string_view id;
  double ordinal = 0;
  std::optional<std::string_view> name;
  std::optional<std::int64_t> duration;
  std::optional<std::string_view> hls_480, hls_720, hls_1080;
  std::optional<std::string_view> updated_at;
};

struct TitleView {
  std::int64_t id = 0;
  std::string_view alias;  // the id when the document has none
  std::string_view name_ru;
  std::optional<std::string_view> name_en, name_alternative;
  std::optional<std::string_view> type;
  std::optional<std::int64_t> year;
  std::optional<std::string_view> season;
  std::string_view status = "unknown";
  std::vector<std::string_view> genres;
  std::optional<std::string_view> description;
  bool has_poster = false;
  std::optional<std::string_view> poster_src, poster_thumbnail;
  std::optional<std::int64_t> episodes_total;
  std::vector<EpisodeView> episodes;
  std::optional<std::string_view> fresh_at, updated_at;

  TitleView() = default;
  TitleView(const TitleView&) = delete;  // alias may point into id_text_
  TitleView& operator=(const TitleView&) = delete;

  /// Reads a document (views into root's parser, valid while it is); reuses the vectors'
  /// capacity. Throws std::invalid_argument naming what is wrong, as TitleDocument::parse does.
  void read(simdjson::dom::element root);

private:
  std::string id_text_;
};

}  // namespace anipipe::cache
