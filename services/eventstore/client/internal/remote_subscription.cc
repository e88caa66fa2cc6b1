#include "services/eventstore/client/internal/remote_subscription.h"

#include <algorithm>
#include <utility>

#include "carehub/base/log.h"
#include "carehub/services/common/grpc_status.h"
#include "services/eventstore/client/internal/proto_mapping.h"

namespace carehub::services::eventstore_client_internal {
namespace {

namespace es = ::carehub::eventstore;
namespace pb = ::carehub::eventstore::v1;

// Codes that say the request itself is wrong or the data is bad: subscribing again would get
// the same answer, so the subscription ends with it. Everything else (UNAVAILABLE from a server
// shutting down or unreachable, a deadline, a reset stream, an overloaded or failing server) is
// worth another try from the checkpoint.
bool IsPermanent(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

}  // namespace

SubscriptionCore::SubscriptionCore(std::shared_ptr<pb::EventStore::Stub> stub,
                                   const es::SubscribeOptions& options,
                                   const SubscriptionSettings& settings)
    : stub_(std::move(stub)),
      options_(options),
      settings_(settings),
      cursor_(options.from_position),
      resume_from_(options.from_position) {}

SubscriptionCore::~SubscriptionCore() {
  // The handle joins the reader before letting go of its reference; this is a backstop for a
  // core that was never handed to one.
  if (reader_.joinable() && reader_.get_id() != std::this_thread::get_id()) {
    End(absl::CancelledError("the subscription was destroyed"));
    reader_.join();
  }
}

void SubscriptionCore::Start() {
  reader_ = std::thread([this] { ReadLoop(); });
}

void SubscriptionCore::End(absl::Status status) {
  std::function<void()> ready;
  {
    absl::MutexLock lock(&mu_);
    const bool cancel = status.code() == absl::StatusCode::kCancelled;
    if (!end_.ok() && (!cancel || end_.code() == absl::StatusCode::kCancelled)) return;
    end_ = std::move(status);
    queue_.clear();
    if (context_ != nullptr) context_->TryCancel();
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  if (ready) ready();
}

void SubscriptionCore::AwaitReaderDone() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&reader_done_));
}

void SubscriptionCore::JoinReader() {
  if (reader_.joinable()) reader_.join();
}

void SubscriptionCore::ReadLoop() {
  absl::Duration backoff = settings_.initial_backoff;
  for (;;) {
    bool progressed = false;
    grpc::Status status = RunStream(&progressed);
    if (IsPermanent(status.error_code())) {
      Fail(FromGrpcStatus(status));
      break;
    }
    if (progressed) backoff = settings_.initial_backoff;
    if (!AwaitBackoff(status, backoff)) break;
    backoff = std::min(backoff * 2, settings_.max_backoff);
  }
  absl::MutexLock lock(&mu_);
  reader_done_ = true;
}

void SubscriptionCore::Fail(absl::Status status) {
  std::function<void()> ready;
  {
    absl::MutexLock lock(&mu_);
    if (!end_.ok()) return;
    LOG_WARNING("eventstore_client.subscription.failed")
        .Kv("code", absl::StatusCodeToString(status.code()))
        .Kv("message", status.message());
    // Unlike End(), keep what is queued: those batches are good, the error comes after them.
    end_ = std::move(status);
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  if (ready) ready();
}

bool SubscriptionCore::AwaitBackoff(const grpc::Status& status, absl::Duration backoff) {
  absl::MutexLock lock(&mu_);
  if (!end_.ok()) return false;
  LOG_INFO("eventstore_client.subscription.resubscribing")
      .Kv("code", static_cast<int>(status.error_code()))
      .Kv("from_position", resume_from_)
      .Kv("backoff_ms", absl::ToInt64Milliseconds(backoff));
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !end_.ok(); };
  return !mu_.AwaitWithTimeout(absl::Condition(&ended), backoff);
}

grpc::Status SubscriptionCore::RunStream(bool* progressed) {
  pb::SubscribeRequest request;
  request.set_stream_prefix(options_.stream_prefix);
  for (const std::string& type : options_.event_types) request.add_event_types(type);
  request.set_max_batch(static_cast<uint32_t>(std::min<size_t>(options_.max_batch, UINT32_MAX)));
  grpc::ClientContext context;
  // No deadline: the stream lives until it is cancelled. Waiting for the channel to be ready is
  // what carries a subscription across a server restart.
  context.set_wait_for_ready(true);
  {
    absl::MutexLock lock(&mu_);
    if (!end_.ok()) return grpc::Status(grpc::StatusCode::CANCELLED, "ended");
    request.set_from_position(resume_from_);
    // A TryCancel() before the call starts cancels it as it starts.
    context_ = &context;
  }
  std::unique_ptr<grpc::ClientReader<pb::SubscribeResponse>> reader =
      stub_->Subscribe(&context, request);
  pb::SubscribeResponse response;
  grpc::Status status;
  while (reader->Read(&response)) {
    *progressed = true;
    absl::StatusOr<es::SubscriptionBatch> batch = FromProto(std::move(response));
    response.Clear();
    if (!batch.ok()) {
      // The server broke the contract; a new stream from the checkpoint may fare better.
      context.TryCancel();
      status = grpc::Status(grpc::StatusCode::INTERNAL, std::string(batch.status().message()));
      break;
    }
    if (!Push(*std::move(batch))) break;  // ended: End() has cancelled the call
  }
  grpc::Status finished = reader->Finish();
  if (status.ok()) status = finished;
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  return status;
}

bool SubscriptionCore::Push(es::SubscriptionBatch batch) {
  std::function<void()> ready;
  {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !end_.ok() || queue_.size() < std::max<size_t>(settings_.buffer_batches, 1);
    };
    mu_.Await(absl::Condition(&room));
    if (!end_.ok()) return false;
    // A stream resumed from resume_from_ should start there; drop anything before it so that a
    // server that repeats itself cannot make us deliver an event twice.
    const uint64_t resume_from = resume_from_;
    std::erase_if(batch.events,
                  [resume_from](const es::RecordedEvent& e) { return e.position < resume_from; });
    batch.checkpoint = std::max(batch.checkpoint, resume_from_);
    resume_from_ = batch.checkpoint;
    queue_.push_back(std::move(batch));
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  if (ready) ready();
  return true;
}

es::SubscriptionBatch SubscriptionCore::PopFront() {
  es::SubscriptionBatch batch = std::move(queue_.front());
  queue_.pop_front();
  cursor_.store(batch.checkpoint);
  caught_up_ = batch.caught_up && queue_.empty();
  return batch;
}

es::SubscriptionBatch SubscriptionCore::EmptyBatch() const {
  es::SubscriptionBatch batch;
  batch.checkpoint = cursor_.load();
  batch.caught_up = caught_up_;
  return batch;
}

absl::StatusOr<es::SubscriptionBatch> SubscriptionCore::Poll() {
  absl::MutexLock lock(&mu_);
  if (!queue_.empty()) return PopFront();
  if (!end_.ok()) return end_;
  return EmptyBatch();
}

absl::StatusOr<es::SubscriptionBatch> SubscriptionCore::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  for (;;) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ReadyLocked(); };
    mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    if (queue_.empty()) {
      if (!end_.ok()) return end_;
      return EmptyBatch();  // timed out
    }
    es::SubscriptionBatch batch = PopFront();
    // A batch that only reports progress moves the cursor; keep waiting for events.
    if (!batch.events.empty() || absl::Now() >= deadline) return batch;
  }
}

void SubscriptionCore::NotifyWhenReady(std::function<void()> ready) {
  {
    absl::MutexLock lock(&mu_);
    if (!ReadyLocked()) {
      ready_ = std::move(ready);
      return;
    }
    ready_ = nullptr;
  }
  ready();
}

RemoteSubscription::~RemoteSubscription() {
  core_->End(absl::CancelledError("the subscription was destroyed"));
  core_->JoinReader();
}

void RemoteSubscription::Cancel() {
  core_->End(absl::CancelledError("the subscription was cancelled"));
}

}  // namespace carehub::services::eventstore_client_internal
