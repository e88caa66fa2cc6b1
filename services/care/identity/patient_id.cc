#include "carehub/care/patient_id.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace carehub::care {
namespace {

using UuidBytes = std::array<uint8_t, 16>;

constexpr size_t kUuidLength = 36;

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

// Stamps version 4 and the RFC 4122 variant onto 16 random bytes and formats them as
// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx.
std::string FormatUuidV4(UuidBytes bytes) {
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kUuidLength);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

class UrandomPatientIdGenerator : public PatientIdGenerator {
 public:
  absl::StatusOr<std::string> NewPatientId() override {
    UuidBytes bytes;
    size_t filled = 0;
    while (filled < bytes.size()) {
      // Flags 0: blocks only until the kernel's pool is first initialised, then never.
      const ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(
            absl::StrCat("getrandom failed while minting a patient id: ", std::strerror(errno)));
      }
      filled += static_cast<size_t>(n);
    }
    return FormatUuidV4(bytes);
  }
};

class BitGenPatientIdGenerator : public PatientIdGenerator {
 public:
  explicit BitGenPatientIdGenerator(absl::BitGenRef gen) : gen_(gen) {}

  absl::StatusOr<std::string> NewPatientId() override {
    UuidBytes bytes;
    {
      absl::MutexLock lock(&mu_);
      for (size_t half = 0; half < 2; ++half) {
        uint64_t word = gen_();  // BitGenRef yields 64 uniform bits from any URBG
        for (size_t i = 0; i < 8; ++i) {
          bytes[half * 8 + i] = static_cast<uint8_t>(word >> (8 * i));
        }
      }
    }
    return FormatUuidV4(bytes);
  }

 private:
  absl::Mutex mu_;
  absl::BitGenRef gen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<PatientIdGenerator> NewUrandomPatientIdGenerator() {
  return std::make_unique<UrandomPatientIdGenerator>();
}

std::unique_ptr<PatientIdGenerator> NewBitGenPatientIdGenerator(absl::BitGenRef gen) {
  return std::make_unique<BitGenPatientIdGenerator>(gen);
}

bool IsPatientId(std::string_view id) {
  if (id.size() != kUuidLength) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (IsDashPosition(i)) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  const char variant = id[19];
  return id[14] == '4' &&
         (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

}  // namespace carehub::care
