#include "util/hex.hpp"

#include <random>

namespace anipipe::util {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out(2 * size, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string to_hex(std::uint64_t value) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

std::string random_hex(std::size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    auto bits = rng();
    for (int i = 0; i < 16 && out.size() < n; ++i, bits >>= 4) out.push_back(kDigits[bits & 0xF]);
  }
  // An all-zero id is invalid for W3C trace context; astronomically unlikely, but cheap to rule out.
  if (!out.empty() && out.find_first_not_of('0') == std::string::npos) out.back() = '1';
  return out;
}

}  // namespace anipipe::util
