// ReadModel: the FHIR read side's own RocksDB database, written only by the projector, read by the
// FHIR API. It can be dropped and rebuilt from the log at any time: the log is the only truth.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ReadModel> model, ReadModel::Open({.path = dir}));
//   ASSIGN_OR_RETURN(uint64_t next, model->Checkpoint());          // 0 for a new model
//   ASSIGN_OR_RETURN(ProjectionOutput out, Project(*model, event));
//   RETURN_IF_ERROR(model->Apply(out, event.position + 1));         // one WriteBatch
//   ASSIGN_OR_RETURN(std::string json, model->Read("CarePlan", id));
//   ASSIGN_OR_RETURN(std::shared_ptr<const ReadModelView> view, model->View());  // a snapshot
//
// Many events in one write (what the projector does with each batch the log delivers):
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ReadModelBatch> batch, model->NewBatch());
//   for (const RecordedEvent& e : events) {
//     ASSIGN_OR_RETURN(ProjectionOutput out, Project(*batch, e));   // sees the earlier events
//     RETURN_IF_ERROR(batch->Add(out, e.position + 1));
//   }
//   RETURN_IF_ERROR(batch->Commit());                                 // one WriteBatch
//
// Apply also keeps the search index (fhir/internal/search_index.h) and a per-type change order
// for type history. A model written by another schema version (one without that index) is
// cleared on Open, so the projector rebuilds it from the log.
//
// Errors: NotFound (no such resource or version), InvalidArgument (a checkpoint that goes
// backwards), DataLoss (stored bytes of the wrong shape), Internal (RocksDB failed).
//
// Thread-safety: thread-safe. Apply is meant for one writer (the projector); reads from any thread
// see each Apply entirely or not at all.
#ifndef CAREHUB_FHIR_READ_MODEL_H_
#define CAREHUB_FHIR_READ_MODEL_H_

#include <atomic>
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
#include "carehub/fhir/projection.h"

namespace carehub::fhir {

// A consistent read-only view of the model as of one moment (a RocksDB snapshot): every read
// through it sees the same set of applied events, whatever the projector writes meanwhile. What
// the searcher's page cursors pin. A view must not outlive the model it came from. Scans call
// `fn` in key order until it returns false. Thread-safe.
class ReadModelView {
 public:
  virtual ~ReadModelView() = default;
  // The current version of a resource as of the view; nullopt if it did not exist.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view type,
                                                         std::string_view id) const = 0;
  // Every current resource of a type, in id order.
  virtual absl::Status ScanType(
      std::string_view type,
      const std::function<bool(std::string_view id, std::string_view json)>& fn) const = 0;
  // Every version of one resource, newest first.
  virtual absl::Status ScanVersions(
      std::string_view type, std::string_view id,
      const std::function<bool(uint64_t version, std::string_view json)>& fn) const = 0;
  // The keys of the search family that start with `prefix`, in key order, or (reverse) in
  // reverse key order.
  virtual absl::Status ScanIndex(std::string_view prefix, bool reverse,
                                 const std::function<bool(std::string_view key,
                                                          std::string_view value)>& fn) const = 0;
  // One version of a resource; nullopt if there is no such version.
  virtual absl::StatusOr<std::optional<std::string>> GetVersion(std::string_view type,
                                                                std::string_view id,
                                                                uint64_t version) const = 0;
};

// The writes of consecutive events, gathered in memory and written to the model by Commit in one
// RocksDB WriteBatch with the last event's checkpoint: a crash leaves the model before or after
// the whole batch. Reads through the batch (CurrentResource, State) see the model plus what was
// added, so that each event is projected exactly as if the earlier ones had been applied one by
// one; the model's own readers see nothing of the batch before Commit. Writes to the same key
// are coalesced (the last wins), which gives the same database contents as one Apply per event.
//
// Errors: Add as Apply (InvalidArgument for a checkpoint that does not move forward, DataLoss for
// a stored resource that does not parse), and a batch whose Add failed writes nothing: Commit
// returns that error. Commit returns RocksDB's error, if any; on success the batch is empty and
// may be reused.
//
// Pipelining: Successor() gives a new batch that sees this one's writes, so that the next events
// can be projected on one thread while this batch is committed on another:
//
//   std::unique_ptr<ReadModelBatch> next = batch->Successor();
//   std::thread commit([&] { status = batch->Commit(); });   // meanwhile: project into `next`
//
// Not thread-safe, except that one batch may be committed while its successor is used. At most
// one batch per model is written at a time (the model's single writer), batches are committed in
// the order they succeed each other, a batch's successor is taken only once its predecessor is
// committed, and a batch must not outlive its model.
class ReadModelBatch : public ProjectionLookup {
 public:
  ~ReadModelBatch() override = default;
  // Adds one event's output and the checkpoint past it.
  virtual absl::Status Add(const ProjectionOutput& output, uint64_t next_position) = 0;
  // Writes everything added (synced if Options::sync) and empties the batch.
  virtual absl::Status Commit() = 0;
  // A new, empty batch that reads through this one's writes (as they are now) before the model:
  // it projects as if this batch were committed. Take it before committing this batch.
  virtual std::unique_ptr<ReadModelBatch> Successor() const = 0;
  // Events added since the last Commit.
  virtual size_t size() const = 0;
};

class ReadModel : public ProjectionLookup {
 public:
  struct Options {
    // Directory of the RocksDB database; created if missing.
    std::string path;
    // Sync the WAL on every Apply. Off by default: the projector calls Sync() once per batch of
    // events instead, so that a rebuild is not bound by the disk's sync rate.
    // Unsynced Applies are still atomic and ordered (RocksDB's point-in-time WAL recovery keeps a
    // prefix of the writes), so a power loss can only take the model back to an earlier event
    // boundary, which the projector resumes from: the log, not the model, is the durable truth.
    bool sync = false;
  };

  static absl::StatusOr<std::unique_ptr<ReadModel>> Open(const Options& options);

  ~ReadModel() override = default;

  // The next log position to project: every event below it is applied. 0 for a new model.
  virtual absl::StatusOr<uint64_t> Checkpoint() const = 0;

  // Writes every version, current resource and state entry of `output` and the checkpoint
  // `next_position`, in one WriteBatch (synced if Options::sync). An empty output just advances
  // the checkpoint. InvalidArgument if next_position is not above the current checkpoint.
  virtual absl::Status Apply(const ProjectionOutput& output, uint64_t next_position) = 0;

  // A new, empty batch of writes (see ReadModelBatch). Apply is one event's batch.
  virtual absl::StatusOr<std::unique_ptr<ReadModelBatch>> NewBatch() = 0;

  // Makes every Apply so far durable (one WAL sync).
  virtual absl::Status Sync() = 0;

  // Caps the bytes per second that RocksDB's flushes and compactions of the model write; 0 (the
  // default) lifts the cap. Under it RocksDB's rate limiter serves flushes before compactions.
  // Why: at live load, a few megabytes flushed into level 0 make RocksDB rewrite a whole level
  // of a family keyed by resource ids (hundreds of megabytes on a large region: the ids spread
  // over all of it) in a burst of a few seconds, and the projector's writes and syncs queue
  // behind it, so the lag spikes; capped, the same compaction takes longer at a lower rate. A
  // rebuild writes far faster and must not be capped (FhirProjector lifts the cap while it
  // catches up).
  virtual void LimitBackgroundWrites(int64_t bytes_per_second) = 0;
  // The cap in force; 0 if none.
  virtual int64_t BackgroundWriteLimit() const = 0;

  // Settling after a bulk load. A rebuild (or any long catch-up) writes far faster than live
  // traffic, and RocksDB's background compactions fall behind: each family ends with its newest
  // files overlapping all of its data, and the first live writes after it trigger compactions
  // into all of it, family after family, each taking a core for seconds while readers wait for
  // the projector (on a 100,000-patient region: a lag p99 of 150-1,200 ms over the first 20 s). The
  // projector records that a bulk load is under way (MarkCompactionDue, persistent, so that a
  // restart in the middle still settles the model) and, once caught up, calls Compact, which
  // compacts every family in one go (reads and Apply go on meanwhile) and clears the mark.
  virtual absl::Status MarkCompactionDue() = 0;
  virtual absl::StatusOr<bool> CompactionDue() const = 0;
  // Cancelled, leaving the mark, if `*cancel` becomes true (e.g. at shutdown); may be null.
  virtual absl::Status Compact(std::atomic<bool>* cancel) = 0;

  // The current version of a resource. NotFound if it does not exist.
  virtual absl::StatusOr<std::string> Read(std::string_view type, std::string_view id) const = 0;
  // One version (1, 2, ...). NotFound if there is no such version.
  virtual absl::StatusOr<std::string> VRead(std::string_view type, std::string_view id,
                                            uint64_t version) const = 0;
  // Every version, newest first (the order of a FHIR history bundle). NotFound if none.
  virtual absl::StatusOr<std::vector<std::string>> History(std::string_view type,
                                                           std::string_view id) const = 0;
  // The current version of every resource of a type, in id order.
  virtual absl::StatusOr<std::vector<std::string>> ListByType(std::string_view type) const = 0;

  // A view pinned to the model as it is now. Release it (drop the last shared_ptr) when done: it
  // keeps RocksDB from discarding what was overwritten since.
  virtual absl::StatusOr<std::shared_ptr<const ReadModelView>> View() const = 0;
};

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_READ_MODEL_H_
