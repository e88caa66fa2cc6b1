// Importer: one municipal file (JSON Lines or CSV, FORMAT.md) -> care commands over gRPC
// (carehub.care.v1.CareService/ExecuteBatch) -> a result per line.
//
//   Importer importer(care_channel, std::move(mapper), {});
//   ImportReport report = importer.Import(bytes, {.kind = FileKind::kCsv});
//   if (!report.complete()) { /* the care service could not be reached: try the file again */ }
//   for (const LineResult& r : report.lines) ...  // accepted, already-imported or rejected
//
// Ordering and concurrency: the lines of one patient (MappedRecord::order_key) are sent one after
// another, in file order, each only when the previous one has been answered; the lines of
// different patients are sent concurrently, up to `max_in_flight` at once, up to `max_batch` of
// them in one ExecuteBatch call (one call per line would cost more than the line itself). The
// care service's event log group-commits concurrent appends, so a file of many patients imports
// at the log's throughput rather than at one fsync per line.
//
// Durability: a line is kAccepted or kAlreadyImported only when the care service answered OK,
// i.e. after its events were synced to the log. Import returns only when no call is in flight.
//
// Errors: a command the care service refuses (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
// ALREADY_EXISTS, OUT_OF_RANGE) is kRejected with the service's message. UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED are retried with exponential backoff up to
// `max_attempts`; what still fails, and any other code, is kNotProcessed, and so are the later
// lines of the same patient (they may depend on it). Replays make a later retry of the whole
// file harmless.
//
// Thread-safe: Import may run concurrently from several threads (each call has its own state).
// Cancel() makes running and later Imports stop sending; unsent lines become kNotProcessed.
#ifndef CAREHUB_MUNICIPAL_IMPORTER_H_
#define CAREHUB_MUNICIPAL_IMPORTER_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/municipal/reader.h"
#include "carehub/municipal/record_mapping.h"
#include "grpcpp/channel.h"

namespace carehub::municipal {

enum class LineStatus {
  kAccepted,         // stored now
  kAlreadyImported,  // the same system + record_id was stored before; nothing changed
  kRejected,         // unreadable, or refused by the care service; `reason` says why
  kNotProcessed,     // not delivered (care service unreachable, or shutting down): send again
};

// "accepted", "already-imported", "rejected", "not-processed" (the words of FORMAT.md).
std::string_view LineStatusName(LineStatus status);

struct LineResult {
  int line = 0;
  std::string record_id;  // as given; empty if the line could not be read
  LineStatus status = LineStatus::kNotProcessed;
  std::string reason;  // for kRejected and kNotProcessed
  std::string text;    // the line verbatim (UTF-8), for reject reports
};

struct ImportReport {
  std::vector<LineResult> lines;  // in file order
  int accepted = 0;
  int already_imported = 0;
  int rejected = 0;
  int not_processed = 0;
  // True when every line was accepted, already imported or rejected.
  bool complete() const { return not_processed == 0; }
};

struct ImporterOptions {
  // Commands in flight at once (one per patient at most), and per ExecuteBatch call.
  int max_in_flight = 256;
  int max_batch = 64;
  // Attempts per command for retryable codes, and the first backoff (doubled each time).
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // Deadline of one ExecuteBatch call.
  absl::Duration rpc_timeout = absl::Seconds(30);
};

class Importer {
 public:
  // `care_channel`: a channel to the care service (remote, or carehubd's in-process channel).
  Importer(std::shared_ptr<grpc::Channel> care_channel, RecordMapper mapper,
           ImporterOptions options);
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  // Reads, maps and sends every line of `bytes`; blocks until each has a result.
  ImportReport Import(std::string_view bytes, const ReaderOptions& reader) const;

  void Cancel() { cancelled_.store(true); }

  // Sends already-mapped commands; for callers (and the benchmark) that build commands
  // themselves. `results[i]` gets the outcome of `records[i]`.
  void Send(const std::vector<const MappedRecord*>& records,
            std::vector<LineResult*>& results) const;

 private:
  std::unique_ptr<care::v1::CareService::Stub> stub_;
  const RecordMapper mapper_;
  const ImporterOptions options_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_IMPORTER_H_
