// The read model's RocksDB layout. Every key is a byte string; type and id never contain '/'
// (FHIR resource types are letters, our ids are hex), so '/' separates unambiguously and a
// prefix scan over "<type>/" or "<type>/<id>/" finds exactly one type or one resource.
//
//   column family "resources" (current versions)
//     key   := type "/" id
//     value := resource JSON (the newest version)
//   column family "versions" (every version, for vread and history)
//     key   := type "/" id "/" version        version = uint64, 8 bytes big-endian
//     value := resource JSON of that version
//   column family "state" (the projection's own indexes, see fhir/internal/projections.h)
//     key   := state key, e.g. "activity/<activity_id>"
//     value := state value
//   column family "meta"
//     key "checkpoint" := uint64, 8 bytes big-endian: the next log position to project
//   column family "search" (reserved: search-index entries, written in the same batch by a
//     later issue; created now so adding them needs no migration)
//
// One event's writes and the checkpoint go into one WriteBatch with sync, so a crash leaves the
// model either before or after the event, never between.
#include "carehub/fhir/read_model.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace carehub::fhir {
namespace {

constexpr char kResources[] = "resources";
constexpr char kVersions[] = "versions";
constexpr char kState[] = "state";
constexpr char kMeta[] = "meta";
constexpr char kSearch[] = "search";
constexpr char kCheckpointKey[] = "checkpoint";

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBigEndian(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(Sv(what), " not found"));
  if (s.IsCorruption()) return absl::DataLossError(absl::StrCat(Sv(what), ": ", s.ToString()));
  return absl::InternalError(absl::StrCat(Sv(what), ": ", s.ToString()));
}

std::string ResourceKey(std::string_view type, std::string_view id) {
  return absl::StrCat(Sv(type), "/", Sv(id));
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksReadModel : public ReadModel {
 public:
  RocksReadModel(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs,
                 bool sync)
      : db_(std::move(db)), cfs_(std::move(cfs)), sync_(sync) {}

  ~RocksReadModel() override {
    for (rocksdb::ColumnFamilyHandle* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close();
  }

  absl::StatusOr<uint64_t> Checkpoint() const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), kCheckpointKey, &value);
    if (s.IsNotFound()) return 0;
    RETURN_IF_ERROR(FromRocks(s, "checkpoint"));
    if (value.size() != 8) return absl::DataLossError("checkpoint is not 8 bytes");
    return FromBigEndian(value);
  }

  absl::Status Apply(const ProjectionOutput& output, uint64_t next_position) override {
    ASSIGN_OR_RETURN(uint64_t current, Checkpoint());
    if (next_position <= current && !(current == 0 && next_position == 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", next_position, " is not after ", current));
    }
    rocksdb::WriteBatch batch;
    for (const ResourceVersion& v : output.resources) {
      const std::string key = ResourceKey(v.type, v.id);
      RETURN_IF_ERROR(FromRocks(batch.Put(cf(kResources), key, v.json), "batch"));
      RETURN_IF_ERROR(FromRocks(
          batch.Put(cf(kVersions), absl::StrCat(key, "/", BigEndian(v.version)), v.json), "batch"));
    }
    for (const auto& [key, value] : output.state) {
      RETURN_IF_ERROR(FromRocks(batch.Put(cf(kState), key, value), "batch"));
    }
    RETURN_IF_ERROR(
        FromRocks(batch.Put(cf(kMeta), kCheckpointKey, BigEndian(next_position)), "batch"));
    rocksdb::WriteOptions options;
    options.sync = sync_;
    return FromRocks(db_->Write(options, &batch), "read model write");
  }

  absl::StatusOr<std::optional<std::string>> CurrentResource(std::string_view type,
                                                             std::string_view id) const override {
    return GetOptional(kResources, ResourceKey(type, id));
  }

  absl::StatusOr<std::optional<std::string>> State(std::string_view key) const override {
    return GetOptional(kState, key);
  }

  absl::StatusOr<std::string> Read(std::string_view type, std::string_view id) const override {
    ASSIGN_OR_RETURN(std::optional<std::string> json, CurrentResource(type, id));
    if (!json.has_value()) return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id)));
    return *std::move(json);
  }

  absl::StatusOr<std::string> VRead(std::string_view type, std::string_view id,
                                    uint64_t version) const override {
    ASSIGN_OR_RETURN(
        std::optional<std::string> json,
        GetOptional(kVersions, absl::StrCat(ResourceKey(type, id), "/", BigEndian(version))));
    if (!json.has_value()) {
      return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id), "/_history/", version));
    }
    return *std::move(json);
  }

  absl::StatusOr<std::vector<std::string>> History(std::string_view type,
                                                   std::string_view id) const override {
    ASSIGN_OR_RETURN(std::vector<std::string> versions,
                     Scan(kVersions, absl::StrCat(ResourceKey(type, id), "/")));
    if (versions.empty()) return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id)));
    return std::vector<std::string>(versions.rbegin(), versions.rend());
  }

  absl::StatusOr<std::vector<std::string>> ListByType(std::string_view type) const override {
    return Scan(kResources, absl::StrCat(Sv(type), "/"));
  }

 private:
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const {
    for (rocksdb::ColumnFamilyHandle* h : cfs_) {
      if (h->GetName() == name) return h;
    }
    return nullptr;  // unreachable: Open creates every family
  }

  absl::StatusOr<std::optional<std::string>> GetOptional(std::string_view family,
                                                         std::string_view key) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(family), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    RETURN_IF_ERROR(FromRocks(s, family));
    return std::optional<std::string>(std::move(value));
  }

  // Values of every key starting with `prefix`, in key order.
  absl::StatusOr<std::vector<std::string>> Scan(std::string_view family,
                                                const std::string& prefix) const {
    std::vector<std::string> values;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(family)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      values.push_back(it->value().ToString());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), family));
    return values;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  const bool sync_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ReadModel>> ReadModel::Open(const Options& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : {kResources, kVersions, kState, kMeta, kSearch}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families, &handles, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::UnavailableError(absl::StrCat("read model in use: ", s.ToString()));
    }
    return FromRocks(s, "open read model");
  }
  return std::unique_ptr<ReadModel>(
      new RocksReadModel(std::move(db), std::move(handles), options.sync));
}

}  // namespace carehub::fhir
