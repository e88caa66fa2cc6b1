// SHA-256 for the hub's own identifiers and the event log's hash chain.
//
//   std::array<uint8_t, 32> digest = Sha256({previous, record});   // of the concatenation
//   std::string hex = Sha256Hex({"CarePlan|", internal_id});
//
// OpenSSL 3 looks its one-shot SHA256() and EVP_sha256() up in the provider registry on every
// call, which costs about as much as hashing a short input; this fetches the digest once and keeps
// one digest context per thread.
//
// Thread-safety: thread-safe.
#ifndef CAREHUB_BASE_SHA256_H_
#define CAREHUB_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace carehub {

// SHA-256 of the concatenation of `parts`. Aborts if OpenSSL cannot hash (it fails only when
// allocation fails inside it): nothing may be written under a wrong or missing digest.
std::array<uint8_t, 32> Sha256(std::initializer_list<std::string_view> parts);

// The same, in lower-case hex (64 characters).
std::string Sha256Hex(std::initializer_list<std::string_view> parts);

}  // namespace carehub

#endif  // CAREHUB_BASE_SHA256_H_
