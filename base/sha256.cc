#include "carehub/base/sha256.h"

#include <cstdlib>

#include "openssl/evp.h"

namespace carehub {

std::array<uint8_t, 32> Sha256(std::initializer_list<std::string_view> parts) {
  // One context per thread, reused: allocating one per digest would cost more than hashing a
  // small event.
  struct Context {
    Context() : ctx(EVP_MD_CTX_new()) {}
    ~Context() { EVP_MD_CTX_free(ctx); }
    EVP_MD_CTX* ctx;
  };
  thread_local Context context;
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<uint8_t, 32> out;
  bool ok = sha256 != nullptr && context.ctx != nullptr &&
            EVP_DigestInit_ex(context.ctx, sha256, nullptr) == 1;
  for (std::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(context.ctx, part.data(), part.size()) == 1;
  }
  unsigned int size = 0;
  ok = ok && EVP_DigestFinal_ex(context.ctx, out.data(), &size) == 1 && size == out.size();
  if (!ok) std::abort();
  return out;
}

std::string Sha256Hex(std::initializer_list<std::string_view> parts) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::array<uint8_t, 32> digest = Sha256(parts);
  std::string hex;
  hex.reserve(2 * digest.size());
  for (uint8_t b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace carehub
