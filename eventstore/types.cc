#include "carehub/eventstore/types.h"

namespace carehub::eventstore {

std::string HashToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (uint8_t byte : hash) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash hash;
  if (hex.size() != hash.size() * 2) return std::nullopt;
  for (size_t i = 0; i < hash.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    hash[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return hash;
}

bool ExpectedVersion::Matches(std::optional<uint64_t> actual) const {
  switch (kind_) {
    case Kind::kAny: return true;
    case Kind::kNoStream: return !actual.has_value();
    case Kind::kStreamExists: return actual.has_value();
    case Kind::kExact: return actual.has_value() && *actual == version_;
  }
  return false;
}

}  // namespace carehub::eventstore
