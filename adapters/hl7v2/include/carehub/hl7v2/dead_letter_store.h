// DeadLetterStore: every message the adapter rejects (AR or AE), kept verbatim with its reason
// and time, so that an operator can read it, fix what was wrong (a configuration, a missing
// admission) and re-submit it.
//
//   ASSIGN_OR_RETURN(auto store, DeadLetterStore::Open(data_dir + "/hl7v2/dead-letters", clock));
//   ASSIGN_OR_RETURN(std::string id, store->Put({.ack_code = "AE", .reason = "...",
//                                               .message = raw_bytes}));
//   ASSIGN_OR_RETURN(std::vector<DeadLetter> all, store->List());   // without message bytes
//   ASSIGN_OR_RETURN(DeadLetter one, store->Get(id));                // with them
//   RETURN_IF_ERROR(store->MarkResubmitted(id, "AA"));              // moves it to resubmitted/
//
// Layout: <dir>/<id>.hl7 holds the message bytes exactly as received (for an oversized message,
// its first bytes), <dir>/<id>.meta its metadata as `key=value` lines. Ids are
// "<UTC time to the microsecond>-<sequence>", e.g. "20261125T234512.123456Z-000007", so they sort
// by arrival and hold nothing from the message: no personnummer reaches a file name. Both files
// are written to a temporary name, fsynced and renamed, and the directory is fsynced, before Put
// returns: the listener sends its AR/AE only after that, so a rejected message is never lost.
// A .hl7 without its .meta (a crash between the two renames) is listed with reason "incomplete".
//
// Errors: Internal for file-system failures; NotFound for an unknown id; InvalidArgument for an
// id that is not one of ours (so a CLI argument cannot name a path outside the store).
// Thread-safe.
#ifndef CAREHUB_HL7V2_DEAD_LETTER_STORE_H_
#define CAREHUB_HL7V2_DEAD_LETTER_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"

namespace carehub::hl7v2 {

struct DeadLetter {
  std::string id;              // set by Put
  absl::Time received_at;      // set by Put from the clock
  std::string ack_code;        // "AR" or "AE"
  std::string error_code;      // HL7 table 0357
  std::string reason;          // as in ERR-8; no personal data
  std::string control_id;      // MSH-10 (printable ASCII)
  std::string source_system;   // MSH-3^MSH-4
  std::string message_type;    // MSH-9, e.g. "ADT^A01"
  std::string peer;            // the sender's address
  bool truncated = false;      // an oversized message: only its first bytes are kept
  uint64_t size = 0;           // the message's full size in bytes
  std::string message;         // the bytes (Get only; empty in List)
};

class DeadLetterStore {
 public:
  // Creates `dir` if needed. `clock` is not owned and must outlive the store.
  static absl::StatusOr<std::unique_ptr<DeadLetterStore>> Open(std::string dir,
                                                               const Clock* clock);

  // Durably stores `letter` (id and received_at are assigned) and returns its id.
  absl::StatusOr<std::string> Put(DeadLetter letter);
  // Every letter not yet re-submitted, oldest first, without message bytes.
  absl::StatusOr<std::vector<DeadLetter>> List() const;
  absl::StatusOr<DeadLetter> Get(const std::string& id) const;
  // Moves a letter to <dir>/resubmitted/, noting the ACK code it got.
  absl::Status MarkResubmitted(const std::string& id, const std::string& ack_code);

  const std::string& dir() const { return dir_; }

 private:
  DeadLetterStore(std::string dir, const Clock* clock) : dir_(std::move(dir)), clock_(clock) {}

  const std::string dir_;
  const Clock* const clock_;
  absl::Mutex mu_;
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace carehub::hl7v2

#endif  // CAREHUB_HL7V2_DEAD_LETTER_STORE_H_
