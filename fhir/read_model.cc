// The read model's RocksDB layout. Every key is a byte string; type and id never contain '/'
// (FHIR resource types are letters, our ids are hex), so '/' separates unambiguously and a
// prefix scan over "<type>/" or "<type>/<id>/" finds exactly one type or one resource.
//
//   column family "resources" (which version is current)
//     key   := type "/" id
//     value := version, uint64, 8 bytes big-endian: the newest version, whose JSON is in
//              "versions". Every version is written once, there, and the current one is not
//              copied: see FamilyOptions for what that saves.
//   column family "versions" (every version: read, vread and history)
//     key   := type "/" id "/" version        version = uint64, 8 bytes big-endian
//     value := resource JSON of that version
//     (values of kMinBlobBytes or more live in blob files, the SST files holding a reference;
//     see FamilyOptions. Reads resolve it transparently.)
//   A read of the current version is two point reads, of "resources" then of "versions"; both
//   are written by one WriteBatch, so a version the first names is always there for the second.
//   column family "state" (the projection's own indexes, see fhir/internal/projections.h)
//     key   := state key, e.g. "activity/<activity_id>"
//     value := state value
//   column family "meta"
//     key "checkpoint" := uint64, 8 bytes big-endian: the next log position to project
//     key "schema"     := decimal schema version of this layout and of the projection's rules
//                         (kSchemaVersion); a model with another (or none while holding data)
//                         is cleared on Open and rebuilt
//     key "compaction_due" := "" while a bulk load awaits its compaction (ReadModel::Compact)
//   column family "search" (fhir/internal/search_index.h builds these keys)
//     key   := "x" type "/" param NUL entry NUL id          value := ""
//       entry := "t:" code 0x01 system     token, code first: a search by code alone is a
//                                          prefix scan ("t:" code 0x01), one with a system an
//                                          exact key (no system: empty)
//              | "r:" type "/" id          reference, literal, without base URL or version; a
//                                          search by bare id looks up each type it may name
//              | "n:" normalized           string: lower case, accents removed, at most 64
//                                          bytes (longer strings: their first 64)
//     key   := "h" type "/" position "/" id   position = the event's log position + 1, 8 bytes
//                                             big-endian (type history, in log order)
//     value := version (8 bytes big-endian) lastUpdated
//   A write deletes the "x" entries of the version it replaces and writes the new version's, in
//   the same WriteBatch, so the index always equals the current versions. The replaced
//   version's entries come from the writer's cache of what it wrote last
//   (fhir/internal/resource_cache.h), else from reading and parsing it. Entries are for token,
//   reference and string parameters; _id is the "resources" key and dates are matched on the
//   JSON of the candidates.
//
// The writes of a batch of events (one event for Apply) and the checkpoint after the last go into
// one WriteBatch, so a crash leaves the model before or after the batch, never inside it (the
// projector syncs the WAL once per batch; see ReadModel::Options::sync). Within a batch, writes
// to one key are coalesced and each family's keys are written in key order.
#include "carehub/fhir/read_model.h"

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "fhir/internal/parsed_resource.h"
#include "fhir/internal/resource_cache.h"
#include "fhir/internal/search_index.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/rate_limiter.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace carehub::fhir {
namespace {

constexpr char kResources[] = "resources";
constexpr char kVersions[] = "versions";
constexpr char kState[] = "state";
constexpr char kMeta[] = "meta";
constexpr char kSearch[] = "search";
constexpr char kCheckpointKey[] = "checkpoint";
constexpr char kSchemaKey[] = "schema";
constexpr char kCompactionDueKey[] = "compaction_due";
// 1: resources, versions, state, checkpoint. 2: the search index and type history. 3: the
// identifier registry's streams are no longer projected (fhir/projection.cc). 4: a deterioration
// alert also raises a Flag. 5: Encounter, Observation and Flag name their data owner
// (kDataOwnerExtension). 6: one entry per token ("t:") instead of "c:" and "s:", no "i:" entries
// (a third of the keys; a bare id is looked up per type). 7: "resources" holds the current version
// number instead of a copy of its JSON.
// Bump it whenever the key grammar, the parameter table (fhir/internal/search_params.cc) or the
// projection's rules change what is stored: entries of the old rules would otherwise linger.
constexpr char kSchemaVersion[] = "7";
// Bytes of recently written resources the writer keeps (see fhir/internal/resource_cache.h).
constexpr size_t kResourceCacheBytes = size_t{256} << 20;
// Versions from this size go to blob files (FamilyOptions): nearly every one.
constexpr uint64_t kMinBlobBytes = 256;

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

// SearchIndexKeys sorts per parameter, not overall: sorted here to compare versions as sets.
template <typename JsonT>
std::vector<std::string> SortedIndexKeys(std::string_view type, std::string_view id,
                                         const JsonT& resource) {
  std::vector<std::string> keys = internal::SearchIndexKeys(type, id, resource);
  std::sort(keys.begin(), keys.end());
  return keys;
}

template <typename JsonT>
std::string LastUpdated(const JsonT& resource) {
  if (auto meta = resource.find("meta"); meta != resource.end() && meta->is_object()) {
    return meta->value("lastUpdated", "");
  }
  return "";
}

std::string ResourceKey(std::string_view type, std::string_view id) {
  return absl::StrCat(Sv(type), "/", Sv(id));
}

// The "versions" key of a version of the resource whose ResourceKey is `resource_key`.
std::string VersionKey(std::string_view resource_key, uint64_t version) {
  return absl::StrCat(Sv(resource_key), "/", BigEndian(version));
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Every family has a Bloom filter: the projection looks up many keys that do not exist yet (each
// new resource, state key and Organization it meets), and without one each such miss reads a
// block of every SST file.
//
// The versions family keeps its JSON in blob files (RocksDB's integrated BlobDB), its SST files
// only the keys and a reference. Nearly every byte the projection writes is resource JSON (every
// event writes a version and usually a Provenance), and compaction would otherwise rewrite it
// level after level. Versions are never changed or deleted, so their blob files are written once
// and never collected. The current version is one of them: the resources family only names it.
// When it held a copy of the JSON, that copy, replaced all the time, was rewritten by every
// compaction of the family: rebuilding a region of 3.6 million events, the family's compactions
// wrote 9.9 GB and took 95 s of CPU (of 979 s in all); naming versions, 1.0 GB and 15-17 s.
rocksdb::ColumnFamilyOptions FamilyOptions(std::string_view name) {
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Level sizes follow the data, as RocksDB's tuning guide recommends: the last level holds
  // nearly all of it and each level above it about a tenth of the one below, instead of fixed
  // targets from a 256 MiB level 1 up, which bounds space and write amplification as a family
  // grows. Over the region of 3.6 million events the rebuild's compactions (summed from the
  // model's LOG) took 133 s of CPU with it and 153 s without.
  options.level_compaction_dynamic_level_bytes = true;
  if (name == kVersions) {
    options.enable_blob_files = true;
    options.min_blob_size = kMinBlobBytes;
    options.blob_compression_type = rocksdb::kLZ4Compression;
    // With the values elsewhere a flushed memtable makes a small SST file, so level 0 gains
    // files much faster than bytes: merge more of them at a time, and throttle writes only when
    // far more of them wait than RocksDB's defaults (4, 20, 36) assume for files of full size.
    options.level0_file_num_compaction_trigger = 8;
    options.level0_slowdown_writes_trigger = 48;
    options.level0_stop_writes_trigger = 64;
  }
  return options;
}

// The rate that stands for no cap (RocksDB's limiter always has one): far above any disk's.
constexpr int64_t kUncappedBytesPerSecond = int64_t{1} << 40;

class RocksReadModel : public ReadModel {
 public:
  RocksReadModel(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs,
                 bool sync, std::shared_ptr<rocksdb::RateLimiter> background_writes)
      : db_(std::move(db)),
        cfs_(std::move(cfs)),
        sync_(sync),
        background_writes_(std::move(background_writes)) {}

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

  absl::Status Apply(const ProjectionOutput& output, uint64_t next_position) override;
  absl::StatusOr<std::unique_ptr<ReadModelBatch>> NewBatch() override;

  absl::Status Sync() override { return FromRocks(db_->SyncWAL(), "read model sync"); }

  void LimitBackgroundWrites(int64_t bytes_per_second) override {
    background_writes_->SetBytesPerSecond(bytes_per_second > 0 ? bytes_per_second
                                                               : kUncappedBytesPerSecond);
  }

  int64_t BackgroundWriteLimit() const override {
    const int64_t rate = background_writes_->GetBytesPerSecond();
    return rate == kUncappedBytesPerSecond ? 0 : rate;
  }

  absl::Status MarkCompactionDue() override {
    rocksdb::WriteOptions options;
    options.sync = true;
    return FromRocks(db_->Put(options, cf(kMeta), kCompactionDueKey, ""), "compaction mark");
  }

  absl::StatusOr<bool> CompactionDue() const override {
    ASSIGN_OR_RETURN(std::optional<std::string> mark, GetOptional(kMeta, kCompactionDueKey));
    return mark.has_value();
  }

  absl::Status Compact(std::atomic<bool>* cancel) override;

  absl::StatusOr<std::optional<std::string>> CurrentResource(std::string_view type,
                                                             std::string_view id) const override {
    return GetCurrent(rocksdb::ReadOptions(), ResourceKey(type, id));
  }

  absl::StatusOr<std::shared_ptr<const ReadModelView>> View() const override;

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
    ASSIGN_OR_RETURN(std::optional<std::string> json,
                     GetOptional(kVersions, VersionKey(ResourceKey(type, id), version)));
    if (!json.has_value()) {
      return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id), "/_history/", version));
    }
    return *std::move(json);
  }

  absl::StatusOr<std::vector<std::string>> History(std::string_view type,
                                                   std::string_view id) const override {
    std::vector<std::string> versions;  // newest first
    RETURN_IF_ERROR(ScanPrefix(rocksdb::ReadOptions(), kVersions,
                               absl::StrCat(ResourceKey(type, id), "/"), /*reverse=*/true,
                               [&](std::string_view, std::string_view json) {
                                 versions.emplace_back(json);
                                 return true;
                               }));
    if (versions.empty()) return absl::NotFoundError(absl::StrCat(Sv(type), "/", Sv(id)));
    return versions;
  }

  absl::StatusOr<std::vector<std::string>> ListByType(std::string_view type) const override {
    std::vector<std::string> values;
    RETURN_IF_ERROR(ScanCurrent(rocksdb::ReadOptions(), type,
                                [&](std::string_view, std::string&& json) {
                                  values.push_back(std::move(json));
                                  return true;
                                }));
    return values;
  }

 private:
  friend class RocksReadModelView;
  friend class RocksReadModelBatch;

  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const {
    for (rocksdb::ColumnFamilyHandle* h : cfs_) {
      if (h->GetName() == name) return h;
    }
    return nullptr;  // unreachable: Open creates every family
  }

  absl::StatusOr<std::optional<std::string>> GetOptional(
      std::string_view family, std::string_view key,
      const rocksdb::ReadOptions& options = rocksdb::ReadOptions()) const {
    std::string value;
    rocksdb::Status s = db_->Get(options, cf(family), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    RETURN_IF_ERROR(FromRocks(s, family));
    return std::optional<std::string>(std::move(value));
  }

  // The JSON of the version a "resources" value names.
  absl::StatusOr<std::string> VersionNamed(const rocksdb::ReadOptions& options,
                                           std::string_view resource_key,
                                           std::string_view version) const {
    if (version.size() != 8) {
      return absl::DataLossError(
          absl::StrCat("the current version of ", Sv(resource_key), " is not 8 bytes"));
    }
    ASSIGN_OR_RETURN(
        std::optional<std::string> json,
        GetOptional(kVersions, VersionKey(resource_key, FromBigEndian(version)), options));
    if (!json.has_value()) {
      return absl::DataLossError(absl::StrCat("the current version of ", Sv(resource_key),
                                              " is missing from the versions"));
    }
    return *std::move(json);
  }

  // The current version of the resource `resource_key` ("type/id"); nullopt if there is none.
  absl::StatusOr<std::optional<std::string>> GetCurrent(const rocksdb::ReadOptions& options,
                                                        const std::string& resource_key) const {
    ASSIGN_OR_RETURN(std::optional<std::string> version,
                     GetOptional(kResources, resource_key, options));
    if (!version.has_value()) return std::optional<std::string>();
    ASSIGN_OR_RETURN(std::string json, VersionNamed(options, resource_key, *version));
    return std::optional<std::string>(std::move(json));
  }

  // Calls fn(id, json) with the current version of every resource of `type`, in id order, until
  // it returns false.
  absl::Status ScanCurrent(const rocksdb::ReadOptions& options, std::string_view type,
                           const std::function<bool(std::string_view, std::string&&)>& fn) const {
    const std::string prefix = absl::StrCat(Sv(type), "/");
    absl::Status named;
    RETURN_IF_ERROR(ScanPrefix(options, kResources, prefix, /*reverse=*/false,
                               [&](std::string_view key, std::string_view version) {
                                 absl::StatusOr<std::string> json =
                                     VersionNamed(options, key, version);
                                 if (!json.ok()) {
                                   named = json.status();
                                   return false;
                                 }
                                 return fn(key.substr(prefix.size()), *std::move(json));
                               }));
    return named;
  }

  // Calls fn(key, value) for every key of `family` starting with `prefix`, in key order (reverse:
  // from the last), until it returns false.
  absl::Status ScanPrefix(rocksdb::ReadOptions options, std::string_view family,
                          std::string_view prefix, bool reverse,
                          const std::function<bool(std::string_view, std::string_view)>& fn) const {
    // Bound the iterator to the prefix so that a reverse scan can start from its end.
    std::string upper(prefix);
    while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
    if (!upper.empty()) upper.back() = static_cast<char>(upper.back() + 1);
    rocksdb::Slice upper_slice(upper);
    if (!upper.empty()) options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, cf(family)));
    const rocksdb::Slice p = ToSlice(prefix);
    if (reverse) {
      // The last key below the upper bound (RocksDB's SeekToLast honours it): the prefix's last
      // key if it has any, since every key from the prefix up to the bound starts with it.
      // Without a bound (a prefix of 0xff bytes) every key from the prefix on starts with it.
      it->SeekToLast();
      for (; it->Valid() && it->key().starts_with(p); it->Prev()) {
        if (!fn(std::string_view(it->key().data(), it->key().size()),
                std::string_view(it->value().data(), it->value().size()))) {
          break;
        }
      }
    } else {
      for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
        if (!fn(std::string_view(it->key().data(), it->key().size()),
                std::string_view(it->value().data(), it->value().size()))) {
          break;
        }
      }
    }
    return FromRocks(it->status(), family);
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  const bool sync_;
  // Flushes and compactions of the model (LimitBackgroundWrites).
  const std::shared_ptr<rocksdb::RateLimiter> background_writes_;
  // What the writer committed last, to diff index entries without reading and parsing.
  internal::ResourceCache cache_{kResourceCacheBytes};
};

// A batch's writes, every family's coalesced per key in ordered maps, so that Commit hands
// RocksDB each family's keys in sorted order (the memtable inserts then walk the skiplist from
// the previous key instead of from its head). Shared, read-only, with the successor batch while
// the batch is being committed.
struct BatchWrites {
  std::map<std::string, std::shared_ptr<const internal::CachedResource>, std::less<>> resources;
  std::vector<std::pair<std::string, std::string>> versions;  // unique keys
  std::map<std::string, std::string, std::less<>> state;
  std::map<std::string, std::optional<std::string>> search;  // nullopt: delete
};

// The batch of writes, and the overlay through which its reads see them: this batch's writes,
// then its predecessor's (being committed meanwhile, see Successor), then the model's cache and
// the model itself.
class RocksReadModelBatch : public ReadModelBatch {
 public:
  explicit RocksReadModelBatch(RocksReadModel* model,
                               std::shared_ptr<const BatchWrites> predecessor = nullptr,
                               std::optional<uint64_t> checkpoint = std::nullopt)
      : model_(model), predecessor_(std::move(predecessor)), checkpoint_(checkpoint) {}

  absl::StatusOr<std::optional<std::string>> CurrentResource(std::string_view type,
                                                             std::string_view id) const override {
    const std::string key = ResourceKey(type, id);
    if (auto overlaid = Overlaid(key)) return std::optional<std::string>(overlaid->json);
    if (auto cached = model_->cache_.Get(key)) return std::optional<std::string>(cached->json);
    return model_->CurrentResource(type, id);
  }

  absl::StatusOr<std::shared_ptr<const internal::ParsedResource>> CurrentParsed(
      std::string_view type, std::string_view id) const override {
    const std::string key = ResourceKey(type, id);
    if (auto overlaid = Overlaid(key)) {
      if (overlaid->parsed != nullptr) return overlaid->parsed;
      return internal::ParseStoredResource(type, id, overlaid->json);
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const internal::CachedResource> committed,
                     Committed(type, id, key));
    if (committed == nullptr) return nullptr;
    return committed->parsed;
  }

  absl::StatusOr<std::optional<std::string>> State(std::string_view key) const override {
    for (const BatchWrites* w : Layers()) {
      if (w == nullptr) continue;
      if (auto it = w->state.find(key); it != w->state.end()) {
        return std::optional<std::string>(it->second);
      }
    }
    return model_->State(key);
  }

  std::unique_ptr<ReadModelBatch> Successor() const override {
    return std::make_unique<RocksReadModelBatch>(model_, writes_, checkpoint_);
  }

  absl::Status Add(const ProjectionOutput& output, uint64_t next_position) override {
    RETURN_IF_ERROR(status_);
    if (!checkpoint_.has_value()) {
      ASSIGN_OR_RETURN(uint64_t committed, model_->Checkpoint());
      checkpoint_ = committed;
    }
    if (next_position <= *checkpoint_ && !(*checkpoint_ == 0 && next_position == 0)) {
      // Nothing of this event was added: the batch stays usable.
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", next_position, " is not after ", *checkpoint_));
    }
    status_ = AddResources(output, next_position);
    RETURN_IF_ERROR(status_);
    for (const auto& [key, value] : output.state) writes_->state[key] = value;
    checkpoint_ = next_position;
    ++events_;
    return absl::OkStatus();
  }

  absl::Status Commit() override;

  size_t size() const override { return events_; }

 private:
  // Replaces the search-index entries of each resource's current version (if any) with those of
  // the new version, records the change in the type history, and overlays the new version.
  absl::Status AddResources(const ProjectionOutput& output, uint64_t next_position) {
    for (const ResourceVersion& v : output.resources) {
      std::string key = ResourceKey(v.type, v.id);
      ASSIGN_OR_RETURN(std::shared_ptr<const internal::CachedResource> current, Current(key, v));
      auto next = std::make_shared<internal::CachedResource>();
      next->json = v.json;
      next->version = v.version;
      std::string last_updated;
      auto index = [&](const auto& document) {
        next->index_keys = SortedIndexKeys(v.type, v.id, document);
        last_updated = LastUpdated(document);
      };
      if (v.parsed != nullptr) {
        // As the projection built it: no need to parse the text it dumped.
        index(v.parsed->json);
        // A version without its body dump (a Provenance) is not changed again: the cache keeps
        // its text, not the parse that would take several times the room.
        if (!v.parsed->body_dump.empty()) next->parsed = v.parsed;
      } else {
        nlohmann::json now = nlohmann::json::parse(v.json, nullptr, /*allow_exceptions=*/false);
        if (now.is_discarded()) {
          return absl::InvalidArgumentError(absl::StrCat(v.type, "/", v.id, " is not JSON"));
        }
        index(now);
      }
      static const std::vector<std::string> kNone;
      const std::vector<std::string>& old_keys = current ? current->index_keys : kNone;
      std::vector<std::string> gone;
      std::set_difference(old_keys.begin(), old_keys.end(), next->index_keys.begin(),
                          next->index_keys.end(), std::back_inserter(gone));
      for (std::string& k : gone) writes_->search[std::move(k)] = std::nullopt;
      for (const std::string& k : next->index_keys) {
        if (!std::binary_search(old_keys.begin(), old_keys.end(), k)) {
          writes_->search[k] = std::string();
        }
      }
      writes_->search[internal::TypeHistoryKey(v.type, next_position, v.id)] =
          internal::TypeHistoryValue(v.version, last_updated);
      writes_->versions.emplace_back(VersionKey(key, v.version), v.json);
      writes_->resources[std::move(key)] = std::move(next);
    }
    return absl::OkStatus();
  }

  // This batch's writes, then its predecessor's (either may be null): what reads see first.
  std::array<const BatchWrites*, 2> Layers() const { return {writes_.get(), predecessor_.get()}; }

  // The version of `key` this batch or its predecessor wrote; nullptr if neither did.
  std::shared_ptr<const internal::CachedResource> Overlaid(std::string_view key) const {
    for (const BatchWrites* w : Layers()) {
      if (w == nullptr) continue;
      if (auto it = w->resources.find(key); it != w->resources.end()) return it->second;
    }
    return nullptr;
  }

  // The current version of `key` with its index keys: from this batch, its predecessor, or the
  // model; nullptr for a new resource.
  absl::StatusOr<std::shared_ptr<const internal::CachedResource>> Current(
      const std::string& key, const ResourceVersion& v) const {
    if (auto overlaid = Overlaid(key)) return overlaid;
    // Version 1 is a new resource (the projection numbers versions from the stored one): there
    // is nothing to look up, and a lookup that misses costs as much as one that hits.
    if (v.version == 1) return nullptr;
    return Committed(v.type, v.id, key);
  }

  // The model's current version of type/id (`key`), parsed and with its index keys: from the
  // model's cache, else read from RocksDB and put in the cache, so that the next event that
  // touches it (and the writer) need not read and parse it again; the Organizations and
  // Practitioners every event references are written once and then only read. nullptr if the
  // model has no such resource. Only for a resource that neither this batch nor its predecessor
  // writes: the model's version is then the current one, and no commit replaces it in the cache
  // while it is put there.
  absl::StatusOr<std::shared_ptr<const internal::CachedResource>> Committed(
      std::string_view type, std::string_view id, const std::string& key) const {
    std::shared_ptr<const internal::CachedResource> cached = model_->cache_.Get(key);
    if (cached != nullptr && cached->parsed != nullptr) return cached;
    std::optional<std::string> stored;
    if (cached != nullptr) {
      stored = cached->json;
    } else {
      ASSIGN_OR_RETURN(stored, model_->CurrentResource(type, id));
      if (!stored.has_value()) return nullptr;
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const internal::ParsedResource> parsed,
                     internal::ParseStoredResource(type, id, *stored));
    auto entry = std::make_shared<internal::CachedResource>();
    entry->index_keys =
        cached != nullptr ? cached->index_keys : SortedIndexKeys(type, id, parsed->json);
    entry->json = *std::move(stored);
    entry->version = parsed->version;
    entry->parsed = std::move(parsed);
    model_->cache_.Put(key, entry);
    return entry;
  }

  RocksReadModel* const model_;
  // Written meanwhile by another thread; read-only here. Committed before this batch is.
  std::shared_ptr<const BatchWrites> predecessor_;
  absl::Status status_;
  std::optional<uint64_t> checkpoint_;  // the last event's next position; read on first Add
  size_t events_ = 0;
  // Replaced, not cleared, by Commit: a successor may still be reading it.
  std::shared_ptr<BatchWrites> writes_ = std::make_shared<BatchWrites>();
};

absl::Status RocksReadModelBatch::Commit() {
  RETURN_IF_ERROR(status_);
  if (events_ == 0) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  BatchWrites& w = *writes_;
  for (const auto& [key, resource] : w.resources) {
    RETURN_IF_ERROR(
        FromRocks(batch.Put(model_->cf(kResources), key, BigEndian(resource->version)), "batch"));
  }
  // Only this thread touches `versions` (a successor reads resources and state).
  std::sort(w.versions.begin(), w.versions.end());
  for (const auto& [key, json] : w.versions) {
    RETURN_IF_ERROR(FromRocks(batch.Put(model_->cf(kVersions), key, json), "batch"));
  }
  for (const auto& [key, value] : w.state) {
    RETURN_IF_ERROR(FromRocks(batch.Put(model_->cf(kState), key, value), "batch"));
  }
  for (const auto& [key, value] : w.search) {
    RETURN_IF_ERROR(FromRocks(value.has_value() ? batch.Put(model_->cf(kSearch), key, *value)
                                                : batch.Delete(model_->cf(kSearch), key),
                              "batch"));
  }
  RETURN_IF_ERROR(FromRocks(
      batch.Put(model_->cf(kMeta), kCheckpointKey, BigEndian(*checkpoint_)), "batch"));
  rocksdb::WriteOptions options;
  options.sync = model_->sync_;
  RETURN_IF_ERROR(FromRocks(model_->db_->Write(options, &batch), "read model write"));
  for (const auto& [key, resource] : w.resources) model_->cache_.Put(key, resource);
  writes_ = std::make_shared<BatchWrites>();
  // Written before this batch: a reused batch reads it from the model, which may be newer.
  predecessor_.reset();
  checkpoint_.reset();
  events_ = 0;
  return absl::OkStatus();
}

absl::Status RocksReadModel::Apply(const ProjectionOutput& output, uint64_t next_position) {
  RocksReadModelBatch batch(this);
  RETURN_IF_ERROR(batch.Add(output, next_position));
  return batch.Commit();
}

absl::StatusOr<std::unique_ptr<ReadModelBatch>> RocksReadModel::NewBatch() {
  return std::unique_ptr<ReadModelBatch>(new RocksReadModelBatch(this));
}


class RocksReadModelView : public ReadModelView {
 public:
  explicit RocksReadModelView(const RocksReadModel* model)
      : model_(model), snapshot_(model->db_->GetSnapshot()) {}
  ~RocksReadModelView() override { model_->db_->ReleaseSnapshot(snapshot_); }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view type,
                                                 std::string_view id) const override {
    return model_->GetCurrent(Options(), ResourceKey(type, id));
  }

  absl::StatusOr<std::optional<std::string>> GetVersion(std::string_view type, std::string_view id,
                                                        uint64_t version) const override {
    return model_->GetOptional(kVersions, VersionKey(ResourceKey(type, id), version), Options());
  }

  absl::Status ScanType(
      std::string_view type,
      const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return model_->ScanCurrent(Options(), type, [&](std::string_view id, std::string&& json) {
      return fn(id, json);
    });
  }

  absl::Status ScanVersions(
      std::string_view type, std::string_view id,
      const std::function<bool(uint64_t, std::string_view)>& fn) const override {
    const std::string prefix = absl::StrCat(ResourceKey(type, id), "/");
    return model_->ScanPrefix(Options(), kVersions, prefix, /*reverse=*/true,
                              [&](std::string_view key, std::string_view value) {
                                return fn(FromBigEndian(key.substr(prefix.size())), value);
                              });
  }

  absl::Status ScanIndex(
      std::string_view prefix, bool reverse,
      const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return model_->ScanPrefix(Options(), kSearch, prefix, reverse, fn);
  }

 private:
  rocksdb::ReadOptions Options() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

  const RocksReadModel* model_;
  const rocksdb::Snapshot* snapshot_;
};

absl::StatusOr<std::shared_ptr<const ReadModelView>> RocksReadModel::View() const {
  return std::shared_ptr<const ReadModelView>(std::make_shared<RocksReadModelView>(this));
}

absl::Status RocksReadModel::Compact(std::atomic<bool>* cancel) {
  rocksdb::CompactRangeOptions options;
  options.canceled = cancel;
  // Not exclusive: the compactions of live writes go on beside it. Every level is merged down
  // into the last; the last is not rewritten again by itself (no compaction filter to apply).
  options.exclusive_manual_compaction = false;
  for (const char* family : {kVersions, kResources, kSearch, kState}) {
    rocksdb::Status s = db_->CompactRange(options, cf(family), nullptr, nullptr);
    if (s.IsManualCompactionPaused()) {
      return absl::CancelledError(absl::StrCat("compaction of ", family, " cancelled"));
    }
    RETURN_IF_ERROR(FromRocks(s, absl::StrCat("compact ", family)));
  }
  rocksdb::WriteOptions write;
  write.sync = true;
  return FromRocks(db_->Delete(write, cf(kMeta), kCompactionDueKey), "compaction mark");
}

// Clears a model whose layout is not this version's: drops and recreates every family but meta,
// then resets the checkpoint so that the projector replays the whole log.
absl::Status ClearForSchema(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                            const std::string& found) {
  LOG_WARNING("read_model.schema_mismatch")
      .Kv("found", found.empty() ? "none" : found)
      .Kv("expected", kSchemaVersion)
      .Kv("action", "cleared; the projector rebuilds it from the log");
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (rocksdb::ColumnFamilyHandle*& h : handles) {
    const std::string name = h->GetName();
    if (name == kMeta) {
      meta = h;
      continue;
    }
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    RETURN_IF_ERROR(FromRocks(db.DropColumnFamily(h), "drop column family"));
    RETURN_IF_ERROR(FromRocks(db.DestroyColumnFamilyHandle(h), "drop column family"));
    h = nullptr;
    RETURN_IF_ERROR(FromRocks(db.CreateColumnFamily(FamilyOptions(name), name, &h),
                              "create column family"));
  }
  rocksdb::WriteBatch batch;
  RETURN_IF_ERROR(FromRocks(batch.Delete(meta, kCheckpointKey), "batch"));
  RETURN_IF_ERROR(FromRocks(batch.Put(meta, kSchemaKey, kSchemaVersion), "batch"));
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db.Write(options, &batch), "write schema");
}

absl::Status CheckSchema(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == kMeta) meta = h;
  }
  std::string schema;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), meta, kSchemaKey, &schema);
  if (!s.IsNotFound()) RETURN_IF_ERROR(FromRocks(s, "schema"));
  if (s.ok() && schema == kSchemaVersion) return absl::OkStatus();
  std::string checkpoint;
  rocksdb::Status c = db.Get(rocksdb::ReadOptions(), meta, kCheckpointKey, &checkpoint);
  if (!c.IsNotFound()) RETURN_IF_ERROR(FromRocks(c, "checkpoint"));
  if (s.IsNotFound() && c.IsNotFound()) {  // a new model
    rocksdb::WriteOptions options;
    options.sync = true;
    return FromRocks(db.Put(options, meta, kSchemaKey, kSchemaVersion), "write schema");
  }
  return ClearForSchema(db, handles, s.ok() ? schema : "");
}
}  // namespace

absl::StatusOr<std::unique_ptr<ReadModel>> ReadModel::Open(const Options& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Live lag and compactions. Flush and compaction output is written back to disk a megabyte at
  // a time, not all at once when the file is synced: a burst of hundreds of dirty megabytes
  // would queue the projector's WAL sync behind it. Compactions (RocksDB's LOW pool, shared by
  // every database of the process) give way to the projector and the API: they use the CPU the
  // foreground leaves, most of a core at live load, instead of taking one from the projector for
  // seconds. On a 100,000-patient region at 2,000 events/s the two took the lag's p99 over a
  // minute from 85-135 ms to 30-100 ms (tests/region/region_bench.cc).
  db_options.bytes_per_sync = 1 << 20;
  db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW,
                                             rocksdb::CpuPriority::kLow);
  // The meta family (the checkpoint) is written with every batch but holds a few bytes, so it
  // never fills a memtable: without a cap every write-ahead log file since its last flush would be
  // kept (gigabytes on a region), and replayed on every open.
  db_options.max_total_wal_size = uint64_t{256} << 20;
  std::shared_ptr<rocksdb::RateLimiter> background_writes(rocksdb::NewGenericRateLimiter(
      kUncappedBytesPerSecond, /*refill_period_us=*/100'000, /*fairness=*/10,
      rocksdb::RateLimiter::Mode::kWritesOnly));
  db_options.rate_limiter = background_writes;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName,
                        FamilyOptions(rocksdb::kDefaultColumnFamilyName));
  for (const char* name : {kResources, kVersions, kState, kMeta, kSearch}) {
    families.emplace_back(name, FamilyOptions(name));
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
  if (absl::Status schema = CheckSchema(*db, handles); !schema.ok()) {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h);
    }
    return schema;
  }
  return std::unique_ptr<ReadModel>(
      new RocksReadModel(std::move(db), std::move(handles), options.sync,
                         std::move(background_writes)));
}

}  // namespace carehub::fhir
