// DropDirectory: the file way in. Municipal systems put files in <root>/inbox; each is imported
// (importer.h) and then moved to <root>/done (no line rejected) or <root>/failed (at least one
// line rejected, with <name>.rejects.jsonl beside it: line, record_id, reason, the line verbatim).
//
//   DropDirectory drop(&importer, {.root = data_dir + "/municipal"});
//   RETURN_IF_ERROR(drop.Start());   // creates inbox/, done/, failed/; polls in a thread
//   ...
//   drop.Stop();
//
// Which files: regular files in inbox/ whose names end in .csv (CSV, charset detected), .jsonl
// or .ndjson (JSON Lines), taken in name order. Names starting with '.' or ending in .part or .tmp
// are left alone, so that a writer can write under such a name and rename when done. Any other
// name is moved to failed/ with a report that says why.
//
// Crash safety: a file leaves inbox/ only after Import returned a complete report, i.e. every
// accepted line is durable in the log; the reject report is written (and fsynced) before the file
// is renamed, and the directories are fsynced after. If the process dies half-way, the file is
// still in inbox/ and is imported again at the next scan; the lines already stored come back
// as already-imported. A file with lines the care service could not take (not-processed) stays in
// inbox/ and is tried again at the next scan.
//
// A file that would overwrite one in done/ or failed/ (a daily export under one name) gets a
// suffix: "hemtjanst.csv" -> "hemtjanst.1.csv".
//
// Thread-safety: Start/Stop from one thread; ScanOnce may be called from any thread while the
// poll thread is not running (tests call it directly, with no sleeps).
#ifndef CAREHUB_MUNICIPAL_DROP_DIRECTORY_H_
#define CAREHUB_MUNICIPAL_DROP_DIRECTORY_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "carehub/municipal/importer.h"

namespace carehub::municipal {

struct DropDirectoryOptions {
  // Holds inbox/, done/ and failed/ (created if missing).
  std::string root;
  // How often inbox/ is looked at.
  absl::Duration poll_interval = absl::Seconds(2);
  // Larger files are moved to failed/ unread.
  uint64_t max_file_bytes = 64ull << 20;
};

// What one scan did, for tests and logs.
struct ScanSummary {
  int files_done = 0;
  int files_failed = 0;
  int files_left = 0;  // stay in inbox/ (not-processed lines, or an I/O error)
};

class DropDirectory {
 public:
  // `importer` is not owned and must outlive this object.
  DropDirectory(const Importer* importer, DropDirectoryOptions options);
  DropDirectory(const DropDirectory&) = delete;
  DropDirectory& operator=(const DropDirectory&) = delete;
  ~DropDirectory();  // Stop()

  // Creates the directories (Internal if it cannot) and starts polling.
  absl::Status Start();
  // Stops polling; a file being imported finishes first (call Importer::Cancel to hurry it).
  void Stop();

  // Imports every file now in inbox/; InternalError if inbox/ cannot be listed.
  absl::StatusOr<ScanSummary> ScanOnce();

  std::string inbox() const;
  std::string done() const;
  std::string failed() const;

 private:
  // Returns true if the file left inbox/.
  bool ProcessFile(const std::string& name, ScanSummary& summary);
  void PollLoop();

  const Importer* const importer_;
  const DropDirectoryOptions options_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread poller_;
};

}  // namespace carehub::municipal

#endif  // CAREHUB_MUNICIPAL_DROP_DIRECTORY_H_
