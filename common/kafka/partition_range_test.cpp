#include "kafka/partition_range.hpp"

#include <doctest/doctest.h>

using anipipe::kafka::partition_for_key;
using anipipe::kafka::Partitioner;

TEST_CASE("partition_for_key: Java's murmur2 (Kafka's own test vectors), positive, modulo the partitions") {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2: "21" -> -973932308, "foobar" -> -790332482,
  // "abc" -> 479470107; the partitioner drops the sign bit.
  CHECK(partition_for_key("21", 1'000'000'000, Partitioner::murmur2) == (-973932308 & 0x7fffffff) % 1'000'000'000);
  CHECK(partition_for_key("foobar", 1'000'000'000, Partitioner::murmur2) == (-790332482 & 0x7fffffff) % 1'000'000'000);
  CHECK(partition_for_key("abc", 1'000'000'000, Partitioner::murmur2) == 479470107);
  CHECK(partition_for_key("abc", 1, Partitioner::murmur2) == 0);
  CHECK(partition_for_key("abc", 0, Partitioner::murmur2) == -1);
}

TEST_CASE("partition_for_key: librdkafka's default, consistent (CRC32 of the key)") {
  CHECK(partition_for_key("abc", 1'000'000'000, Partitioner::consistent) == 891568578);  // crc32("abc") = 0x352441c2
  CHECK(partition_for_key("abc", 7, Partitioner::consistent) == 891568578 % 7);
}
