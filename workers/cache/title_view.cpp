#include "title_view.hpp"

#include <string>

#include "catalog/title_reader.hpp"

namespace anipipe::cache {

void TitleView::read(simdjson::dom::element root) {
  if (!catalog::read_title(root, *this)) {
    id_text_ = std::to_string(id);
    alias = id_text_;
  }
}

}  // namespace anipipe::cache
