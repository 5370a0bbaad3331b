#pragma once
// A titles record read in place: the title model (catalog/title_model.hpp) in views into the
// parser that read it, with TitleDocument's reading rules (catalog/title_reader), but without
// copying the document into an owning one. cache reads every record of a replay or
// rebuild once; the copies were a quarter of its time.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/title_model.hpp"

namespace anipipe::cache {

struct TitleView : catalog::BasicTitle<std::string_view> {
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
