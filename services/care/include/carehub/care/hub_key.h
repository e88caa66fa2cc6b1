// The hub's secret key: keys the HMAC that turns a national identifier into the id of its registry
// stream, so that stream ids reveal nothing without the key, yet the same identifier always finds
// the same stream (see patient_registry.h).
//
//   ASSIGN_OR_RETURN(std::string key, LoadOrCreateHubKey(data_dir + "/care/hub.key"));
//
// The file holds kHubKeyBytes random bytes (OpenSSL RAND_bytes), mode 0600, written once on first
// start and never changed: a new key would orphan every registry stream. Back it up with the log.
#ifndef CAREHUB_CARE_HUB_KEY_H_
#define CAREHUB_CARE_HUB_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace carehub::care {

inline constexpr size_t kHubKeyBytes = 32;

// Reads the key at `path`, or creates it if the file does not exist (two processes racing to
// create it end up with the same key). Internal on I/O errors; DataLoss if the file exists with
// the wrong size.
absl::StatusOr<std::string> LoadOrCreateHubKey(const std::string& path);

}  // namespace carehub::care

#endif  // CAREHUB_CARE_HUB_KEY_H_
