#include "util/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "util/hex.hpp"

namespace anipipe::util {

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view message) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()), message.size(),
            mac.data(), &len) ||
      len != mac.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  return mac;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  const auto mac = hmac_sha256(key, message);
  return to_hex(mac.data(), mac.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace anipipe::util
