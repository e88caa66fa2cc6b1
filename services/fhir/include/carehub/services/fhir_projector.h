// FhirProjector: keeps a fhir::ReadModel up to date with an event log. Subscribes to the log from
// the read model's checkpoint, projects each batch of events (fhir::Project) into one
// fhir::ReadModelBatch and writes it with the checkpoint past its last event in one WriteBatch,
// syncing the read model's WAL once per batch. Two threads: one projects, the other writes, so
// that the next batch is projected while the last is written (through ReadModelBatch::Successor,
// which sees the batch being written as if it were).
//
//   ASSIGN_OR_RETURN(auto model, fhir::ReadModel::Open({.path = data_dir + "/fhir"}));
//   FhirProjector projector(store.get(), model.get());
//   RETURN_IF_ERROR(projector.Start());
//   ...
//   projector.Stop();  // also done by the destructor
//
// A crash at any moment leaves the read model at an event boundary; a restarted projector
// resumes at the checkpoint, so no event is half-applied, skipped or applied twice. Events the
// projection does not know (another module's types, payloads newer than this build) are skipped
// and the checkpoint passes them. An event the projection fails on (DataLoss: unreadable data;
// Internal) stops the projector with that status rather than skipping it: the read model must
// not silently diverge from the log. status() reports it; a restart retries the event.
//
// A long catch-up (a rebuild from position 0, a projector that was down for long) leaves the read
// model's RocksDB with compaction work that live writes would otherwise pay for in lag; once
// caught up the projector compacts the model on a thread of its own (fhir::ReadModel::Compact,
// Options::compact_after_catch_up), and Stop() cancels that.
//
// The store and read model are not owned and must outlive the projector (Stop() before closing
// them). The store may be any eventstore::EventStore: the in-process one or a remote client.
//
// Thread-safety: Start, Stop and the accessors may be called from any thread.
#ifndef CAREHUB_SERVICES_FHIR_PROJECTOR_H_
#define CAREHUB_SERVICES_FHIR_PROJECTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/fhir/read_model.h"

namespace carehub::services {

class FhirProjector {
 public:
  struct Options {
    // Events per subscription batch.
    size_t max_batch = 512;
    // How long one wait for new events lasts; Stop() does not wait for it (it cancels).
    absl::Duration idle_wait = absl::Seconds(1);
    // Called on the writing thread after each event is applied (visible to readers), with the new
    // checkpoint. For tests and metrics; must not block for long.
    std::function<void(uint64_t checkpoint)> on_applied;
    // For tests: stop by itself after this many events (0 = never), as if killed mid-stream.
    uint64_t stop_after_events = 0;
    // A catch-up of at least this many events (a rebuild, a long outage) ends, once caught up,
    // with a compaction of the read model on a thread of its own (fhir::ReadModel::Compact says
    // why); live events are projected meanwhile. 0: never.
    uint64_t compact_after_catch_up = 100'000;
    // While live, the read model's flushes and compactions write at most this many bytes per
    // second (fhir::ReadModel::LimitBackgroundWrites says why); while catching up or compacting
    // after a catch-up, without a cap. At 2,000 events/s a 100,000-patient region's compactions
    // write ~11 MB/s on average, in bursts of 40-65 MB/s. 0: never capped.
    int64_t live_background_write_limit = int64_t{32} << 20;
    // Catching up: at least this many events behind the head of the log. Fewer is a burst of
    // live events (an append of several, a busy second), which keeps the cap.
    uint64_t catch_up_events = 10'000;
  };

  FhirProjector(eventstore::EventStore* store, fhir::ReadModel* model)
      : FhirProjector(store, model, Options()) {}
  FhirProjector(eventstore::EventStore* store, fhir::ReadModel* model, Options options);
  FhirProjector(const FhirProjector&) = delete;
  FhirProjector& operator=(const FhirProjector&) = delete;
  ~FhirProjector();

  // Reads the checkpoint and starts the projector thread. FailedPrecondition if already started;
  // the read model's error if its checkpoint cannot be read.
  absl::Status Start();

  // Cancels the subscription and joins the thread; an event being applied is finished first.
  // Idempotent.
  void Stop();

  // Waits until the checkpoint is at least `next_position`, the projector stops, or `timeout`
  // passes. OK when reached; the projector's error if it stopped on one; DeadlineExceeded or
  // Cancelled (stopped before reaching it) otherwise.
  absl::Status WaitForCheckpoint(uint64_t next_position, absl::Duration timeout);

  // Waits until no compaction of the read model is due: none was, or the one that follows a
  // catch-up has finished. OK then; the compaction's error if it failed; Cancelled if the
  // projector stopped first; DeadlineExceeded after `timeout`.
  absl::Status WaitForCompaction(absl::Duration timeout);

  // The next position to project.
  uint64_t checkpoint() const;
  // OK while running or after a clean stop; otherwise why the projector stopped.
  absl::Status status() const;
  bool running() const;

 private:
  // A projected batch on its way to the read model.
  struct Projected {
    std::unique_ptr<fhir::ReadModelBatch> writes;
    uint64_t next = 0;                 // the checkpoint once it is written
    std::vector<uint64_t> checkpoints;  // past each of its events, for on_applied
  };

  void Run();
  // Projects the events of `batch` (up to stop_after_events) into `writes`; `projected.next`
  // comes in as the position past the events handed over before.
  absl::Status Project(const eventstore::SubscriptionBatch& batch, uint64_t applied,
                       fhir::ReadModelBatch& writes, Projected& projected);
  // The writing thread: writes each batch handed over, then publishes its checkpoint.
  void WriteLoop();
  bool CompactionDue() const;
  // Whether a compaction is due and may start now; if so, it counts as running from here.
  bool StartCompaction();
  // Compacts the read model and clears compaction_due_ (on its own thread).
  void Compact();
  bool Compacting() const;
  // Hands `projected` to the writing thread (after the batch before it is written).
  void HandOver(Projected projected);
  // Waits until the batch handed over last is written; its error if it failed.
  absl::Status WaitWritten();

  eventstore::EventStore* const store_;
  fhir::ReadModel* const model_;
  const Options options_;

  mutable absl::Mutex mu_;
  uint64_t checkpoint_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  eventstore::Subscription* subscription_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool compaction_due_ ABSL_GUARDED_BY(mu_) = false;
  bool compacting_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status compaction_status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // touched only by Start and Stop, which serialise on start_stop_mu_
  std::atomic<bool> cancel_compaction_{false};
  absl::Mutex start_stop_mu_;

  absl::Mutex write_mu_;
  std::optional<Projected> to_write_ ABSL_GUARDED_BY(write_mu_);
  bool writing_ ABSL_GUARDED_BY(write_mu_) = false;  // from hand-over until written
  absl::Status write_status_ ABSL_GUARDED_BY(write_mu_);
  bool write_stop_ ABSL_GUARDED_BY(write_mu_) = false;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_FHIR_PROJECTOR_H_
