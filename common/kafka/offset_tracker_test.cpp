#include <doctest/doctest.h>

#include "kafka/offset_tracker.hpp"

using anipipe::kafka::OffsetTracker;
using anipipe::kafka::TopicPartition;

TEST_CASE("a record with no outputs is committable at once") {
  OffsetTracker t;
  TopicPartition tp{"t", 0};
  CHECK(t.begin(tp, 5, 0) == 6);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("a later record finishing first does not move the offset past an unfinished one") {
  OffsetTracker t;
  TopicPartition tp{"t", 0};
  CHECK_FALSE(t.begin(tp, 10, 1).has_value());
  CHECK_FALSE(t.begin(tp, 11, 0).has_value());  // done, but 10 is still pending
  CHECK_FALSE(t.begin(tp, 12, 2).has_value());
  CHECK(t.in_flight() == 2);
  CHECK(t.ack(tp, 10) == 12);  // 10 and 11 done; 12 still waits
  CHECK_FALSE(t.ack(tp, 12).has_value());
  CHECK(t.ack(tp, 12) == 13);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("partitions are independent") {
  OffsetTracker t;
  TopicPartition a{"t", 0}, b{"t", 1};
  CHECK_FALSE(t.begin(a, 0, 1).has_value());
  CHECK(t.begin(b, 0, 0) == 1);
  CHECK(t.ack(a, 0) == 1);
}

TEST_CASE("rewind drops the rewound records and their late acknowledgements are ignored") {
  OffsetTracker t;
  TopicPartition tp{"t", 0};
  CHECK_FALSE(t.begin(tp, 1, 1).has_value());
  CHECK_FALSE(t.begin(tp, 2, 1).has_value());
  t.rewind(tp, 2);
  CHECK(t.in_flight() == 1);
  CHECK_FALSE(t.ack(tp, 2).has_value());  // unknown now
  CHECK(t.ack(tp, 1) == 2);               // stores 2: the rewound record is not committed
}

TEST_CASE("forget drops a revoked partition") {
  OffsetTracker t;
  TopicPartition tp{"t", 3};
  CHECK_FALSE(t.begin(tp, 7, 1).has_value());
  t.forget(tp);
  CHECK(t.in_flight() == 0);
  CHECK_FALSE(t.ack(tp, 7).has_value());
}
