// AccessLog: who read which patient's record, as a durable, hash-chained log of its own.
//
// Swedish patient-data law asks that every access to a record be logged and followed up, and a
// patient may ask which care units have read their data. Each FHIR read, vread, history, search
// and $everything becomes one AccessEntry: who asked (user, organisation and care-unit HSA-ids,
// or anonymous), when, the interaction, the patients (internal ids, never national identifiers)
// and the resources the response contained, and the HTTP status. Patients are named as the
// responses name them: by FHIR Patient id (fhir::ResourceId("Patient", internal id), a
// pseudonym of the internal id).
//
// The log is a second eventstore::EventStore (its own RocksDB directory, `<data_dir>/access-log`):
// the same single writer, group commit, SHA-256 chain and verification as the care log. Every
// entry is one event of the stream "access-log" (type kAccessEventType, data: the entry as
// compact JSON), filed under the index keys "patient:<id>" and "agent:<HSA-id>" (user,
// organisation, care unit; "agent:anonymous" without any) so that lookups do not scan the log.
// Entries recorded together share one append, which files each of their agents once, under its
// first entry (see FileAgentsPerAppend in the .cc).
// The index is not covered by the chain; lookups therefore re-check every match against the
// entry's own, hashed, content. An entry's id is its position in the access log.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AccessLog> log,
//                    AccessLog::Open({.path = data_dir + "/access-log"}));
//   log->RecordAsync(std::move(entry), [done](absl::StatusOr<uint64_t> id) {
//     if (!id.ok()) ...;  // the read must not be served
//     done();             // only now is the response sent
//   });
//   ASSIGN_OR_RETURN(AccessPage page, log->Find({.patient = "3f2a..."}));
//
// Errors: RecordAsync/Record pass on the event store's (Unavailable while it closes, Internal for
// an I/O failure, FailedPrecondition on a read-only log). Find and Get: InvalidArgument for a
// malformed query, DataLoss for an entry that does not parse, NotFound from Get for an unknown
// id.
//
// Thread-safety: thread-safe. RecordAsync's callback runs on the store's completer thread (or at
// once on the caller's for rejected input) and must not block.
#ifndef CAREHUB_AUDIT_ACCESS_LOG_H_
#define CAREHUB_AUDIT_ACCESS_LOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::audit {

inline constexpr char kAccessEventType[] = "carehub.audit.v1.RecordAccessed";
inline constexpr char kAccessStream[] = "access-log";
// Index keys one entry may carry (its patients and agents); Open() raises the store's limit to it.
inline constexpr size_t kMaxIndexKeys = 1u << 16;

// Who asked. All empty: anonymous (no identifying headers were sent).
struct AccessAgent {
  std::string user_hsa_id;
  std::string organization_hsa_id;
  std::string care_unit_hsa_id;

  bool anonymous() const { return user_hsa_id.empty() && organization_hsa_id.empty() && care_unit_hsa_id.empty(); }
  friend bool operator==(const AccessAgent&, const AccessAgent&) = default;
};

struct AccessedResource {
  std::string type;
  std::string id;
  uint64_t version = 0;  // 0 when the response did not name one

  friend bool operator==(const AccessedResource&, const AccessedResource&) = default;
};

struct AccessEntry {
  // Set by the log: the entry's position (its id) and when it was recorded (the store's clock).
  uint64_t position = 0;
  absl::Time recorded;

  AccessAgent agent;
  // A FHIR restful-interaction code: read, vread, history-instance, history-type, search-type,
  // or operation (with `operation` naming it, e.g. "everything").
  std::string interaction;
  std::string operation;
  std::string resource_type;  // the type the request addressed
  int status = 0;             // the HTTP status answered
  std::vector<std::string> patients;  // FHIR Patient ids, sorted, unique
  std::vector<AccessedResource> resources;

  friend bool operator==(const AccessEntry&, const AccessEntry&) = default;
};

// Lookups, newest first. Every set criterion must hold.
struct AccessQuery {
  std::optional<std::string> patient;  // a FHIR Patient id
  std::optional<std::string> agent;    // an HSA-id: the user, the organisation or the care unit
  absl::Time from = absl::InfinitePast();  // recorded at or after
  absl::Time to = absl::InfiniteFuture();  // recorded before
  size_t limit = 50;
  // Paging: only entries at positions below this one (AccessPage::next_before of the last page).
  std::optional<uint64_t> before;
};

struct AccessPage {
  std::vector<AccessEntry> entries;
  std::optional<uint64_t> next_before;  // set when more entries may match
};

struct AccessLogOptions {
  std::string path;  // the RocksDB directory, e.g. <data_dir>/access-log
  Clock* clock = nullptr;  // not owned; nullptr = the real clock
  bool read_only = false;  // audit tools on a stopped hub; RecordAsync then fails
};

// What auditors' tools read: a log opened here (AccessLog) or a running hub's, over gRPC
// (ConnectAccessLog in access_log_service.h).
class AccessLogReader {
 public:
  virtual ~AccessLogReader() = default;
  virtual absl::StatusOr<AccessPage> Find(const AccessQuery& query) = 0;
  // Recomputes the log's hash chain (eventstore::EventStore::Verify).
  virtual absl::StatusOr<eventstore::VerifyResult> Verify(std::optional<eventstore::LogHead> from) = 0;
};

class AccessLog : public AccessLogReader {
 public:
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const AccessLogOptions& options);
  // Over a store opened by the caller (tests, a remote log).
  explicit AccessLog(std::unique_ptr<eventstore::EventStore> store);
  ~AccessLog() override;
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  using RecordCallback = std::function<void(absl::StatusOr<uint64_t> position)>;
  // Appends `entry` (its position and recorded time are ignored) and runs `done` once it is
  // durable (WAL synced), with its position, or with the error that kept it out of the log.
  // Entries that arrive while an append is being made durable go together in the next one.
  void RecordAsync(AccessEntry entry, RecordCallback done);
  // The same, waiting.
  absl::StatusOr<uint64_t> Record(const AccessEntry& entry);

  absl::StatusOr<AccessPage> Find(const AccessQuery& query) override;
  absl::StatusOr<eventstore::VerifyResult> Verify(std::optional<eventstore::LogHead> from) override {
    return store_->Verify(from);
  }
  // The entry at `position`; NotFound if there is none.
  absl::StatusOr<AccessEntry> Get(uint64_t position);

  eventstore::EventStore& store() { return *store_; }

 private:
  // Entries waiting for the append in flight, with the callbacks to answer.
  struct Batch {
    std::vector<eventstore::ProposedEvent> events;
    std::vector<RecordCallback> done;
    size_t bytes = 0;  // data of `events`
  };
  // Up to the store's batch limits of pending_, oldest first.
  Batch TakeBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(Batch batch);
  // The `count` entries after `position` (the rest of an append); DataLoss if they are not there.
  absl::StatusOr<std::vector<eventstore::RecordedEvent>> ReadFollowing(uint64_t position,
                                                                       uint64_t count);

  std::unique_ptr<eventstore::EventStore> owned_store_;
  eventstore::EventStore* const store_;
  absl::Mutex mu_;
  Batch pending_ ABSL_GUARDED_BY(mu_);
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;  // an append of this log is being made durable
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

// The stored form of an entry (compact JSON) and back. DecodeAccessEntry: DataLoss if malformed;
// position and recorded come from the event.
std::string EncodeAccessEntry(const AccessEntry& entry);
absl::StatusOr<AccessEntry> DecodeAccessEntry(const eventstore::RecordedEvent& event);

// The patient ids a FHIR resource's JSON names: its own id for a Patient, and every
// "reference":"Patient/<id>" in it. Appended to `out` (not deduplicated). A text scan, no parse:
// it runs on every read.
void PatientsReferencedBy(std::string_view resource_type, std::string_view id, std::string_view json,
                          std::vector<std::string>* out);

}  // namespace carehub::audit

#endif  // CAREHUB_AUDIT_ACCESS_LOG_H_
