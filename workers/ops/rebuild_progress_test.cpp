#include <doctest/doctest.h>

#include "rebuild_progress.hpp"

using anipipe::ops::Progress;

TEST_CASE("progress reads as done of total, percent, rate and ETA") {
  CHECK(Progress::describe(45000, 100000, 1.5) == "45,000/100,000 (45%), 30,000/s, ETA 2s");
  CHECK(Progress::describe(100000, 100000, 2.0) == "100,000/100,000 (100%), 50,000/s");
  CHECK(Progress::describe(0, 0, 0.0) == "0/0, 0/s");
}
