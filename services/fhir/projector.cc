#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
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
  {
    absl::MutexLock lock(&mu_);
    checkpoint_ = checkpoint;
    status_ = absl::OkStatus();
    running_ = true;
    stopping_ = false;
  }
  LOG_INFO("fhir.projector.started").Kv("checkpoint", checkpoint);
  thread_ = std::thread([this] { Run(); });
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
  std::unique_ptr<eventstore::Subscription> subscription =
      store_->Subscribe({.from_position = from, .max_batch = options_.max_batch});
  {
    absl::MutexLock lock(&mu_);
    subscription_ = subscription.get();
    // A Stop() that came before the subscription existed could not cancel it.
    if (stopping_) subscription->Cancel();
  }
  absl::Status status;
  uint64_t applied = 0;
  for (;;) {
    absl::StatusOr<eventstore::SubscriptionBatch> batch = subscription->Next(options_.idle_wait);
    if (!batch.ok()) {
      if (!absl::IsCancelled(batch.status())) status = batch.status();
      break;
    }
    status = Project(*batch, &applied);
    if (!status.ok()) break;
    if (options_.stop_after_events > 0 && applied >= options_.stop_after_events) break;
  }
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

absl::Status FhirProjector::Project(const eventstore::SubscriptionBatch& batch, uint64_t* applied) {
  // The whole batch goes into one write: each event is projected against the model plus the
  // batch's earlier events, and the model moves from before the first to after the last at once
  // (a crash leaves it at either). During a rebuild a batch holds hundreds of events, when live
  // usually one.
  ASSIGN_OR_RETURN(std::unique_ptr<fhir::ReadModelBatch> writes, model_->NewBatch());
  uint64_t next = 0;
  {
    absl::MutexLock lock(&mu_);
    next = checkpoint_;
  }
  size_t projected = 0;
  for (const eventstore::RecordedEvent& event : batch.events) {
    ASSIGN_OR_RETURN(fhir::ProjectionOutput output, fhir::Project(*writes, event));
    if (!output.skipped_reason.empty()) {
      LOG_DEBUG("fhir.projector.skipped")
          .Kv("position", event.position)
          .Kv("type", event.type)
          .Kv("reason", output.skipped_reason);
    }
    RETURN_IF_ERROR(writes->Add(output, event.position + 1));
    next = event.position + 1;
    ++projected;
    if (options_.stop_after_events > 0 && *applied + projected >= options_.stop_after_events) {
      break;
    }
  }
  // No filter is set, so the batch's checkpoint is normally just past its last event; should the
  // store have examined further (an empty tail), record that too.
  const bool whole_batch = projected == batch.events.size();
  if (whole_batch && batch.checkpoint > next) {
    RETURN_IF_ERROR(writes->Add({}, batch.checkpoint));
    next = batch.checkpoint;
  }
  if (writes->size() == 0) return absl::OkStatus();
  RETURN_IF_ERROR(writes->Commit());
  // One WAL sync per batch rather than per event.
  RETURN_IF_ERROR(model_->Sync());
  {
    absl::MutexLock lock(&mu_);
    checkpoint_ = next;
  }
  if (options_.on_applied) {
    for (size_t i = 0; i < projected; ++i) options_.on_applied(batch.events[i].position + 1);
  }
  *applied += projected;
  return absl::OkStatus();
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
