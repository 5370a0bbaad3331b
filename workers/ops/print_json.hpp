#pragma once
// `--json` output of the ops commands: one line, written by the same write_json the ops page's
// API uses, so the CLI and the page can never disagree on a field.
#include <cstdio>
#include <string>

#include "json/json_writer.hpp"

namespace anipipe::ops {

template <class T>
void print_json(const T& value) {
  std::string out;
  json::Writer w(out);
  write_json(w, value);
  std::printf("%s\n", out.c_str());
}

}  // namespace anipipe::ops
