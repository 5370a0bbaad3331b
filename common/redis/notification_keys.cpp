#include "redis/notification_keys.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "util/hex.hpp"

namespace anipipe::redis::notifications {

namespace {
std::string user_key(std::string_view user, std::string_view suffix) {
  std::string k = "notifications:{";
  k.append(user).append("}").append(suffix);
  return k;
}
}  // namespace

std::string seen(std::string_view idempotency_key) { return "notification:seen:" + std::string(idempotency_key); }
std::string history(std::string_view user) { return user_key(user, ""); }
std::string items(std::string_view user) { return user_key(user, ":items"); }
std::string read(std::string_view user) { return user_key(user, ":read"); }

std::string notification_id(std::string_view idempotency_key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(idempotency_key.data(), idempotency_key.size(), md, &len, EVP_sha256(), nullptr) || len < 16)
    throw std::runtime_error("SHA-256 failed");
  return util::to_hex(md, 16);
}

}  // namespace anipipe::redis::notifications
