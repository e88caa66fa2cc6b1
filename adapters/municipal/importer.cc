// The importer's dispatcher. All decisions (what to send next, what to retry, when a patient's
// chain stops) are taken on the thread that called Import; gRPC's callback threads only queue the
// completion and wake that thread, so no lock is held across a call and no reactor blocks.
#include "carehub/municipal/importer.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "carehub/base/strings.h"
#include "grpcpp/client_context.h"

namespace carehub::municipal {
namespace {

namespace v1 = care::v1;

enum class Outcome { kDone, kRetry, kGiveUp };

Outcome Classify(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE:
      return Outcome::kDone;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
      return Outcome::kRetry;
    default:
      return Outcome::kGiveUp;
  }
}

// One ExecuteBatch call: the next record of each of `chains`.
struct Call {
  grpc::ClientContext context;
  v1::ExecuteBatchRequest request;
  v1::ExecuteBatchResponse response;
  grpc::Status status;
  std::vector<size_t> chains;
};

// The state of one Send: the chains of records per patient and the calls in flight.
class Dispatch {
 public:
  Dispatch(v1::CareService::Stub* stub, const ImporterOptions& options,
           const std::atomic<bool>& cancelled, const std::vector<const MappedRecord*>& records,
           std::vector<LineResult*>& results)
      : stub_(stub), options_(options), cancelled_(cancelled), records_(records),
        results_(results) {
    std::unordered_map<std::string_view, size_t> chain_of;
    for (size_t i = 0; i < records.size(); ++i) {
      auto [it, inserted] = chain_of.try_emplace(records[i]->order_key, chains_.size());
      if (inserted) chains_.emplace_back();
      chains_[it->second].items.push_back(i);
    }
    for (size_t c = 0; c < chains_.size(); ++c) ready_.push_back(c);
  }

  void Run() {
    const size_t max_in_flight = static_cast<size_t>(std::max(1, options_.max_in_flight));
    const size_t max_batch = static_cast<size_t>(std::max(1, options_.max_batch));
    size_t in_flight = 0;
    std::vector<std::unique_ptr<Call>> done;
    for (;;) {
      const absl::Time now = absl::Now();
      // Retries whose backoff has passed become ready again.
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->first <= now) {
          ready_.push_back(it->second);
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
      if (cancelled_.load()) {
        for (size_t c : ready_) GiveUpChain(c, "the adapter is stopping");
        for (const auto& [when, c] : waiting_) GiveUpChain(c, "the adapter is stopping");
        ready_.clear();
        waiting_.clear();
      }
      while (in_flight < max_in_flight && !ready_.empty()) {
        const size_t n = std::min({ready_.size(), max_in_flight - in_flight, max_batch});
        std::vector<size_t> chains(ready_.begin(), ready_.begin() + n);
        ready_.erase(ready_.begin(), ready_.begin() + n);
        Start(std::move(chains));
        in_flight += n;
      }
      if (in_flight == 0 && waiting_.empty() && ready_.empty()) return;

      {
        absl::MutexLock lock(&mu_);
        if (completed_.empty()) {
          absl::Time deadline = absl::InfiniteFuture();
          for (const auto& [when, c] : waiting_) deadline = std::min(deadline, when);
          // Wake now and then to notice Cancel() even with nothing completing.
          deadline = std::min(deadline, absl::Now() + absl::Milliseconds(200));
          mu_.AwaitWithDeadline(absl::Condition(this, &Dispatch::HasCompleted), deadline);
        }
        done.swap(completed_);
      }
      for (std::unique_ptr<Call>& call : done) {
        in_flight -= call->chains.size();
        Finish(*call);
      }
      done.clear();
    }
  }

 private:
  struct Chain {
    std::vector<size_t> items;
    size_t next = 0;      // index into items of the record to send next
    int attempts = 0;     // of items[next]
  };

  bool HasCompleted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !completed_.empty(); }

  void Start(std::vector<size_t> chains) {
    auto call = std::make_unique<Call>();
    for (size_t chain_index : chains) {
      Chain& chain = chains_[chain_index];
      ++chain.attempts;
      *call->request.add_commands() = records_[chain.items[chain.next]]->command;
    }
    call->chains = std::move(chains);
    call->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoMilliseconds(options_.rpc_timeout));
    Call* raw = call.release();
    stub_->async()->ExecuteBatch(&raw->context, &raw->request, &raw->response,
                                 [this, raw](grpc::Status status) {
                                   raw->status = std::move(status);
                                   absl::MutexLock lock(&mu_);
                                   completed_.emplace_back(raw);
                                 });
  }

  // Each chain's command has the call's status if the call failed, else its own result.
  void Finish(const Call& call) {
    const bool answered =
        call.status.ok() && call.response.results_size() == static_cast<int>(call.chains.size());
    for (size_t i = 0; i < call.chains.size(); ++i) {
      if (!answered) {
        FinishCommand(call.chains[i],
                      call.status.ok() ? grpc::Status(grpc::StatusCode::INTERNAL,
                                                      "the care service answered a batch of "
                                                      "another size")
                                       : call.status,
                      v1::CommandResponse());
        continue;
      }
      const v1::CommandResult& result = call.response.results(static_cast<int>(i));
      FinishCommand(call.chains[i],
                    grpc::Status(static_cast<grpc::StatusCode>(result.code()), result.message()),
                    result.response());
    }
  }

  void FinishCommand(size_t chain_index, const grpc::Status& status,
                     const v1::CommandResponse& response) {
    Chain& chain = chains_[chain_index];
    LineResult& result = *results_[chain.items[chain.next]];
    switch (Classify(status)) {
      case Outcome::kDone:
        if (status.ok()) {
          result.status =
              response.replayed() ? LineStatus::kAlreadyImported : LineStatus::kAccepted;
          result.reason.clear();
        } else {
          result.status = LineStatus::kRejected;
          result.reason = status.error_message();
        }
        Advance(chain_index);
        return;
      case Outcome::kRetry:
        if (chain.attempts < options_.max_attempts && !cancelled_.load()) {
          absl::Duration backoff = options_.initial_backoff;
          for (int i = 1; i < chain.attempts; ++i) backoff *= 2;
          waiting_.emplace_back(absl::Now() + backoff, chain_index);
          return;
        }
        break;
      case Outcome::kGiveUp:
        break;
    }
    result.status = LineStatus::kNotProcessed;
    result.reason = absl::StrCat("care service: ", Sv(CodeName(status.error_code())), ": ",
                                 status.error_message());
    const int line = result.line;
    ++chain.next;
    GiveUpChain(chain_index, absl::StrCat("an earlier line of this patient (line ", line,
                                          ") was not processed"));
  }

  void Advance(size_t chain_index) {
    Chain& chain = chains_[chain_index];
    ++chain.next;
    chain.attempts = 0;
    if (chain.next < chain.items.size()) ready_.push_back(chain_index);
  }

  // Every record of the chain from `next` on is not processed.
  void GiveUpChain(size_t chain_index, const std::string& reason) {
    Chain& chain = chains_[chain_index];
    for (; chain.next < chain.items.size(); ++chain.next) {
      LineResult& result = *results_[chain.items[chain.next]];
      result.status = LineStatus::kNotProcessed;
      result.reason = reason;
    }
  }

  static std::string_view CodeName(grpc::StatusCode code) {
    switch (code) {
      case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
      case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::ABORTED: return "ABORTED";
      case grpc::StatusCode::INTERNAL: return "INTERNAL";
      case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
      case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
      case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
      case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
      case grpc::StatusCode::CANCELLED: return "CANCELLED";
      default: return "UNKNOWN";
    }
  }

  v1::CareService::Stub* const stub_;
  const ImporterOptions& options_;
  const std::atomic<bool>& cancelled_;
  const std::vector<const MappedRecord*>& records_;
  std::vector<LineResult*>& results_;

  std::vector<Chain> chains_;
  std::deque<size_t> ready_;
  std::vector<std::pair<absl::Time, size_t>> waiting_;  // (retry at, chain)

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Call>> completed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string_view LineStatusName(LineStatus status) {
  switch (status) {
    case LineStatus::kAccepted: return "accepted";
    case LineStatus::kAlreadyImported: return "already-imported";
    case LineStatus::kRejected: return "rejected";
    case LineStatus::kNotProcessed: return "not-processed";
  }
  return "not-processed";
}

Importer::Importer(std::shared_ptr<grpc::Channel> care_channel, RecordMapper mapper,
                   ImporterOptions options)
    : stub_(v1::CareService::NewStub(std::move(care_channel))),
      mapper_(std::move(mapper)),
      options_(options) {}

void Importer::Send(const std::vector<const MappedRecord*>& records,
                    std::vector<LineResult*>& results) const {
  Dispatch dispatch(stub_.get(), options_, cancelled_, records, results);
  dispatch.Run();
}

ImportReport Importer::Import(std::string_view bytes, const ReaderOptions& reader) const {
  ReadResult file = ReadMunicipalFile(bytes, reader);
  ImportReport report;
  report.lines.resize(file.lines.size());
  std::vector<MappedRecord> mapped;
  mapped.reserve(file.lines.size());
  std::vector<size_t> mapped_line;  // index into report.lines of mapped[i]
  for (size_t i = 0; i < file.lines.size(); ++i) {
    SourceLine& line = file.lines[i];
    LineResult& result = report.lines[i];
    result.line = line.line;
    result.text = std::move(line.text);
    if (const std::string* id = FindField(line.fields, "record_id")) result.record_id = *id;
    if (!line.error.empty()) {
      result.status = LineStatus::kRejected;
      result.reason = std::move(line.error);
      continue;
    }
    absl::StatusOr<MappedRecord> record = mapper_.Map(line.fields);
    if (!record.ok()) {
      result.status = LineStatus::kRejected;
      result.reason = std::string(record.status().message());
      continue;
    }
    mapped.push_back(*std::move(record));
    mapped_line.push_back(i);
  }
  std::vector<const MappedRecord*> records;
  std::vector<LineResult*> results;
  for (size_t i = 0; i < mapped.size(); ++i) {
    records.push_back(&mapped[i]);
    results.push_back(&report.lines[mapped_line[i]]);
  }
  Send(records, results);
  for (const LineResult& line : report.lines) {
    switch (line.status) {
      case LineStatus::kAccepted: ++report.accepted; break;
      case LineStatus::kAlreadyImported: ++report.already_imported; break;
      case LineStatus::kRejected: ++report.rejected; break;
      case LineStatus::kNotProcessed: ++report.not_processed; break;
    }
  }
  return report;
}

}  // namespace carehub::municipal
