// ReadModel: the FHIR read side's own RocksDB database, written only by the projector, read by the
// FHIR API. It can be dropped and rebuilt from the log at any time: the log is the only truth.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ReadModel> model, ReadModel::Open({.path = dir}));
//   ASSIGN_OR_RETURN(uint64_t next, model->Checkpoint());          // 0 for a new model
//   ASSIGN_OR_RETURN(ProjectionOutput out, Project(*model, event));
//   RETURN_IF_ERROR(model->Apply(out, event.position + 1));         // one synced WriteBatch
//   ASSIGN_OR_RETURN(std::string json, model->Read("CarePlan", id));
//
// Errors: NotFound (no such resource or version), InvalidArgument (a checkpoint that goes
// backwards), DataLoss (stored bytes of the wrong shape), Internal (RocksDB failed).
//
// Thread-safety: thread-safe. Apply is meant for one writer (the projector); reads from any thread
// see each Apply entirely or not at all.
#ifndef CAREHUB_FHIR_READ_MODEL_H_
#define CAREHUB_FHIR_READ_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "carehub/fhir/projection.h"

namespace carehub::fhir {

class ReadModel : public ProjectionLookup {
 public:
  struct Options {
    // Directory of the RocksDB database; created if missing.
    std::string path;
    // Sync the WAL on every Apply (durable checkpoint). Only tests of non-durability turn it off.
    bool sync = true;
  };

  static absl::StatusOr<std::unique_ptr<ReadModel>> Open(const Options& options);

  ~ReadModel() override = default;

  // The next log position to project: every event below it is applied. 0 for a new model.
  virtual absl::StatusOr<uint64_t> Checkpoint() const = 0;

  // Writes every version, current resource and state entry of `output` and the checkpoint
  // `next_position`, in one synced WriteBatch. An empty output just advances the checkpoint.
  // InvalidArgument if next_position is not above the current checkpoint.
  virtual absl::Status Apply(const ProjectionOutput& output, uint64_t next_position) = 0;

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
};

}  // namespace carehub::fhir

#endif  // CAREHUB_FHIR_READ_MODEL_H_
