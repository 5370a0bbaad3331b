#include "util/hex.hpp"

#include <random>

namespace anipipe::util {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

void to_hex(const unsigned char* data, std::size_t size, char* out) {
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out(2 * size, '0');
  to_hex(data, size, out.data());
  return out;
}

std::string to_hex(std::uint64_t value) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

void random_hex(char* out, std::size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  bool zero = true;
  for (std::size_t i = 0; i < n;) {
    auto bits = rng();
    for (int k = 0; k < 16 && i < n; ++k, ++i, bits >>= 4) {
      out[i] = kDigits[bits & 0xF];
      zero = zero && out[i] == '0';
    }
  }
  // An all-zero id is invalid for W3C trace context; astronomically unlikely, but cheap to rule out.
  if (n > 0 && zero) out[n - 1] = '1';
}

std::string random_hex(std::size_t n) {
  std::string out(n, '0');
  random_hex(out.data(), n);
  return out;
}

}  // namespace anipipe::util
