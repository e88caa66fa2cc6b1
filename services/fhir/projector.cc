#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/thread_name.h"
#include "carehub/fhir/projection.h"
#include "carehub/services/fhir_projector.h"

namespace carehub::services {

FhirProjector::FhirProjector(eventstore::EventStore* store, fhir::ReadModel* model, Options options)
    : store_(store), model_(model), options_(std::move(options)) {}

FhirProjector::~FhirProjector() { Stop(); }

absl::Status FhirProjector::Start() {
  absl::MutexLock start_stop(&start_stop_mu_);
  if (thread_.joinable()) return absl::FailedPreconditionError("the projector was started before");
  ASSIGN_OR_RETURN(uint64_t checkpoint, model_->Checkpoint());
  ASSIGN_OR_RETURN(bool compaction_due, model_->CompactionDue());
  {
    absl::MutexLock lock(&mu_);
    checkpoint_ = checkpoint;
    compaction_due_ = compaction_due;
    compaction_status_ = absl::OkStatus();
    status_ = absl::OkStatus();
    running_ = true;
    stopping_ = false;
  }
  LOG_INFO("fhir.projector.started").Kv("checkpoint", checkpoint);
  thread_ = std::thread([this] {
    NameThisThread("fhir-project");  // names show in top -H and perf
    Run();
  });
  return absl::OkStatus();
}

void FhirProjector::Stop() {
  absl::MutexLock start_stop(&start_stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (subscription_ != nullptr) subscription_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

void FhirProjector::Run() {
  uint64_t from = 0;
  {
    absl::MutexLock lock(&mu_);
    from = checkpoint_;
  }
  {
    absl::MutexLock lock(&write_mu_);
    write_status_ = absl::OkStatus();
    write_stop_ = false;
  }
  std::thread writer([this] {
    NameThisThread("fhir-write");
    WriteLoop();
  });
  std::unique_ptr<eventstore::Subscription> subscription =
      store_->Subscribe({.from_position = from, .max_batch = options_.max_batch});
  {
    absl::MutexLock lock(&mu_);
    subscription_ = subscription.get();
    // A Stop() that came before the subscription existed could not cancel it.
    if (stopping_) subscription->Cancel();
  }
  absl::Status status;
  absl::StatusOr<std::unique_ptr<fhir::ReadModelBatch>> writes = model_->NewBatch();
  if (!writes.ok()) status = writes.status();
  uint64_t applied = 0;
  uint64_t next = from;  // past the last event handed over
  uint64_t behind = 0;   // events projected while behind the head of the log
  std::thread compactor;
  cancel_compaction_ = false;
  while (status.ok()) {
    absl::StatusOr<eventstore::SubscriptionBatch> batch = subscription->Next(options_.idle_wait);
    if (!batch.ok()) {
      if (!absl::IsCancelled(batch.status())) status = batch.status();
      break;
    }
    if (!batch->caught_up) {
      behind += batch->events.size();
      if (options_.compact_after_catch_up > 0 && behind >= options_.compact_after_catch_up &&
          !CompactionDue()) {
        status = model_->MarkCompactionDue();
        if (!status.ok()) break;
        absl::MutexLock lock(&mu_);
        compaction_due_ = true;
      }
    } else {
      behind = 0;
      if (StartCompaction()) {
        if (compactor.joinable()) compactor.join();  // an earlier one, finished
        compactor = std::thread([this] {
          NameThisThread("fhir-compact");
          Compact();
        });
      }
    }
    // The model's cap (Options::live_background_write_limit), also lifting one left by an
    // earlier projector.
    const bool live = behind < options_.catch_up_events && !Compacting();
    if (const int64_t cap = live ? options_.live_background_write_limit : 0;
        cap != model_->BackgroundWriteLimit()) {
      model_->LimitBackgroundWrites(cap);
      LOG_INFO("fhir.projector.background_writes").Kv("bytes_per_second", cap);
    }
    Projected projected;
    projected.next = next;
    status = Project(*batch, applied, **writes, projected);
    if (!status.ok()) break;
    if ((*writes)->size() == 0) continue;
    applied += projected.checkpoints.size();
    // The batch before is written, so this one's successor need not look past this one.
    status = WaitWritten();
    if (!status.ok()) break;
    std::unique_ptr<fhir::ReadModelBatch> successor = (*writes)->Successor();
    projected.writes = std::move(*writes);
    next = projected.next;
    HandOver(std::move(projected));
    *writes = std::move(successor);
    if (options_.stop_after_events > 0 && applied >= options_.stop_after_events) break;
  }
  // What was handed over is written before the projector stops.
  if (absl::Status written = WaitWritten(); status.ok()) status = written;
  {
    absl::MutexLock lock(&write_mu_);
    write_stop_ = true;
  }
  writer.join();
  cancel_compaction_ = true;
  if (compactor.joinable()) compactor.join();
  absl::MutexLock lock(&mu_);
  subscription_ = nullptr;
  running_ = false;
  status_ = status;
  if (status.ok()) {
    LOG_INFO("fhir.projector.stopped").Kv("checkpoint", checkpoint_);
  } else {
    LOG_ERROR("fhir.projector.failed")
        .Kv("checkpoint", checkpoint_)
        .Kv("code", absl::StatusCodeToString(status.code()))
        .Kv("message", status.message());
  }
  // `subscription` is destroyed here, before Stop() can return and the store be closed.
}

absl::Status FhirProjector::Project(const eventstore::SubscriptionBatch& batch, uint64_t applied,
                                    fhir::ReadModelBatch& writes, Projected& projected) {
  // Each event is projected against the model plus the earlier events of this batch and the
  // batch being written, and the model moves from before the first to after the last at once
  // (a crash leaves it at either). During a rebuild a batch holds hundreds of events, when live
  // usually one.
  for (const eventstore::RecordedEvent& event : batch.events) {
    ASSIGN_OR_RETURN(fhir::ProjectionOutput output, fhir::Project(writes, event));
    if (!output.skipped_reason.empty()) {
      LOG_DEBUG("fhir.projector.skipped")
          .Kv("position", event.position)
          .Kv("type", event.type)
          .Kv("reason", output.skipped_reason);
    }
    RETURN_IF_ERROR(writes.Add(output, event.position + 1));
    projected.next = event.position + 1;
    projected.checkpoints.push_back(projected.next);
    if (options_.stop_after_events > 0 &&
        applied + projected.checkpoints.size() >= options_.stop_after_events) {
      return absl::OkStatus();
    }
  }
  // The whole batch is in. No filter is set, so the batch's checkpoint is normally just past its
  // last event; should the store have examined further (an empty tail), record that too.
  if (batch.checkpoint > projected.next) {
    RETURN_IF_ERROR(writes.Add({}, batch.checkpoint));
    projected.next = batch.checkpoint;
  }
  return absl::OkStatus();
}

bool FhirProjector::CompactionDue() const {
  absl::MutexLock lock(&mu_);
  return compaction_due_;
}

bool FhirProjector::StartCompaction() {
  absl::MutexLock lock(&mu_);
  // Not again after a failure: it would fail on every batch.
  if (!compaction_due_ || compacting_ || !compaction_status_.ok()) return false;
  compacting_ = true;
  return true;
}

bool FhirProjector::Compacting() const {
  absl::MutexLock lock(&mu_);
  return compacting_;
}

void FhirProjector::Compact() {
  LOG_INFO("fhir.projector.compaction_started");
  const absl::Time begin = absl::Now();
  absl::Status status = model_->Compact(&cancel_compaction_);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
  if (status.ok()) {
    LOG_INFO("fhir.projector.compacted").Kv("seconds", seconds);
  } else if (absl::IsCancelled(status)) {
    // The mark stays: the next start compacts once caught up.
    LOG_INFO("fhir.projector.compaction_cancelled").Kv("seconds", seconds);
  } else {
    // Reads stay correct without it; only the lag after a bulk load suffers.
    LOG_WARNING("fhir.projector.compaction_failed")
        .Kv("code", absl::StatusCodeToString(status.code()))
        .Kv("message", status.message());
  }
  absl::MutexLock lock(&mu_);
  if (status.ok()) compaction_due_ = false;
  compaction_status_ = status;
  compacting_ = false;
}

void FhirProjector::HandOver(Projected projected) {
  absl::MutexLock lock(&write_mu_);
  to_write_ = std::move(projected);
  writing_ = true;
}

absl::Status FhirProjector::WaitWritten() {
  absl::MutexLock lock(&write_mu_);
  write_mu_.Await(absl::Condition(
      +[](bool* writing) { return !*writing; }, &writing_));
  return write_status_;
}

void FhirProjector::WriteLoop() {
  for (;;) {
    Projected projected;
    {
      absl::MutexLock lock(&write_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
        return to_write_.has_value() || write_stop_;
      };
      write_mu_.Await(absl::Condition(&ready));
      if (!to_write_.has_value()) return;
      projected = *std::move(to_write_);
      to_write_.reset();
    }
    absl::Status status = projected.writes->Commit();
    // One WAL sync per batch rather than per event.
    if (status.ok()) status = model_->Sync();
    if (status.ok()) {
      {
        absl::MutexLock lock(&mu_);
        checkpoint_ = projected.next;
      }
      if (options_.on_applied) {
        for (uint64_t checkpoint : projected.checkpoints) options_.on_applied(checkpoint);
      }
    }
    absl::MutexLock lock(&write_mu_);
    write_status_ = status;
    writing_ = false;
  }
}

absl::Status FhirProjector::WaitForCheckpoint(uint64_t next_position, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, next_position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return checkpoint_ >= next_position || !running_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  if (checkpoint_ >= next_position) return absl::OkStatus();
  if (!status_.ok()) return status_;
  if (!running_) return absl::CancelledError("the projector stopped before the checkpoint");
  return absl::DeadlineExceededError(
      absl::StrCat("checkpoint ", checkpoint_, " has not reached ", next_position));
}

absl::Status FhirProjector::WaitForCompaction(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !compaction_due_ || !compaction_status_.ok() || !running_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  if (!compaction_due_) return absl::OkStatus();
  if (!compaction_status_.ok()) return compaction_status_;
  if (!running_) return absl::CancelledError("the projector stopped before the compaction");
  return absl::DeadlineExceededError("the read model's compaction has not finished");
}

uint64_t FhirProjector::checkpoint() const {
  absl::MutexLock lock(&mu_);
  return checkpoint_;
}

absl::Status FhirProjector::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

bool FhirProjector::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

}  // namespace carehub::services
