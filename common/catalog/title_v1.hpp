#pragma once
// The old Node.js back end's title format (the seeds' v1 API, `anilibria:v1:*` in Redis): what the
// site's existing code reads, produced from the v2 document so both stay in step. cache writes it
// to Redis; the edge serves it under /api/anilibria/v1/. Field names are the Node.js model's
// (camelCase, aniLibriaId, code = alias, episodes numbered).
#include <string>

#include "catalog/title_document.hpp"

namespace anipipe::catalog {

std::string to_v1_json(const TitleDocument& t);

}  // namespace anipipe::catalog
