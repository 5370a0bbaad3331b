#include <doctest/doctest.h>

#include "util/hex.hpp"
#include "util/hmac.hpp"

using namespace anipipe::util;

TEST_CASE("HMAC-SHA256 matches RFC 4231's test vectors") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  CHECK(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("constant_time_equal compares whole strings") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK(constant_time_equal("", ""));
}


TEST_CASE("hex: bytes, 64-bit values, random ids") {
  const unsigned char bytes[] = {0x00, 0x9f, 0xff};
  CHECK(to_hex(bytes, 3) == "009fff");
  CHECK(to_hex(std::uint64_t{0xcbf29ce484222325}) == "cbf29ce484222325");
  CHECK(to_hex(std::uint64_t{1}) == "0000000000000001");
  const auto a = random_hex(32), b = random_hex(32);
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}
