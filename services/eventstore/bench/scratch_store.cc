#include "services/eventstore/bench/scratch_store.h"

#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"

namespace carehub::bench {

absl::StatusOr<std::unique_ptr<ScratchStore>> ScratchStore::Open(std::filesystem::path path) {
  if (std::filesystem::exists(path)) {
    return absl::AlreadyExistsError(absl::StrCat("scratch store path exists: ", path.string()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
                   eventstore::EventStore::Open({.path = path.string()}));
  return std::unique_ptr<ScratchStore>(new ScratchStore(std::move(path), std::move(store)));
}

ScratchStore::~ScratchStore() {
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace carehub::bench
