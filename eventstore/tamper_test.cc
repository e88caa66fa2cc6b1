// Tamper evidence: someone with write access to the database files alters the events column
// family underneath a closed store, the way a reader of eventstore/internal/codec.h would, and
// Verify must name the exact position where the stored bytes stop reproducing the hash chain.
//
// The store must still open on a tampered log, read-only (audit tools) and, for damage short of
// the head, read-write (the hub), because refusing to open would hide the evidence along with the
// damage. Each test writes its own log in its own temporary directory.
//
// What a chain cannot catch on its own, and these tests pin down as such: an attacker who rewrites
// the tail and recomputes every later hash, or who cuts the tail off, leaves a self-consistent
// log. Only a head an auditor recorded before the attack exposes it, so the tests check that
// Verify(from = that head) does.
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/eventstore/types.h"
#include "eventstore/internal/codec.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace carehub::eventstore {
namespace {

constexpr uint64_t kEventCount = 40;
constexpr uint64_t kFirst = 0;
constexpr uint64_t kMiddle = kEventCount / 2;
constexpr uint64_t kLast = kEventCount - 1;

// The offset of the first length-prefixed string in a record: magic, position, version and
// recorded_at come first (codec.h).
constexpr size_t kFixedRecordPrefix = 1 + 8 + 8 + 8;
constexpr size_t kHashBytes = 32;

std::string Describe(const LogHead& head) {
  if (!head.position.has_value()) return absl::StrCat("{empty, ", HashToHex(head.hash), "}");
  return absl::StrCat("{", *head.position, ", ", HashToHex(head.hash), "}");
}

std::string Describe(const VerifyResult& result) {
  return absl::StrCat("ok=", result.ok, " events_verified=", result.events_verified,
                      " head=", Describe(result.head), " first_bad_position=",
                      result.first_bad_position.has_value()
                          ? absl::StrCat(*result.first_bad_position)
                          : std::string("none"),
                      " problem=\"", result.problem, "\"");
}

absl::Status FromRocksDb(const rocksdb::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(status.ToString());
}

std::string HashBytes(const Hash& hash) { return std::string(hash.begin(), hash.end()); }

// The database beneath a closed store, opened with exactly the column families codec.h
// documents. Not thread-safe.
class RawDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<RawDatabase>> Open(const std::string& path) {
    const std::vector<std::string> documented = {rocksdb::kDefaultColumnFamilyName,
                                                 internal::kEventsFamily, internal::kStreamsFamily,
                                                 internal::kIdsFamily, internal::kIndexFamily};
    std::vector<std::string> present;
    if (absl::Status s = FromRocksDb(rocksdb::DB::ListColumnFamilies({}, path, &present)); !s.ok()) {
      return s;
    }
    if (std::set<std::string>(present.begin(), present.end()) !=
        std::set<std::string>(documented.begin(), documented.end())) {
      return absl::FailedPreconditionError(
          absl::StrCat("column families on disk [", absl::StrJoin(present, ","),
                       "] differ from codec.h's [", absl::StrJoin(documented, ","), "]"));
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : documented) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    auto raw = std::unique_ptr<RawDatabase>(new RawDatabase());
    rocksdb::DB* db = nullptr;
    absl::Status s = FromRocksDb(
        rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &raw->handles_, &db));
    raw->db_.reset(db);
    if (!s.ok()) return s;
    for (size_t i = 0; i < documented.size(); ++i) raw->families_[documented[i]] = raw->handles_[i];
    return raw;
  }

  ~RawDatabase() {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    if (db_ != nullptr) db_->Close().PermitUncheckedError();
  }

  absl::StatusOr<std::string> Get(const std::string& family, std::string_view key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), families_.at(family), key, &value);
    if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(family, " has no such key"));
    if (absl::Status status = FromRocksDb(s); !status.ok()) return status;
    return value;
  }
  absl::Status Put(const std::string& family, std::string_view key, std::string_view value) {
    return FromRocksDb(db_->Put(SyncedWrite(), families_.at(family), key, value));
  }
  absl::Status Delete(const std::string& family, std::string_view key) {
    return FromRocksDb(db_->Delete(SyncedWrite(), families_.at(family), key));
  }

 private:
  RawDatabase() = default;
  static rocksdb::WriteOptions SyncedWrite() {
    rocksdb::WriteOptions options;
    options.sync = true;
    return options;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

// Reads the whole log, page by page, in position order.
absl::StatusOr<std::vector<RecordedEvent>> ReadWholeLog(EventStore& store) {
  std::vector<RecordedEvent> events;
  std::optional<uint64_t> next = 0;
  while (next.has_value()) {
    ReadAllRequest request;
    request.from_position = next;
    absl::StatusOr<ReadAllResult> page = store.ReadAll(request);
    if (!page.ok()) return page.status();
    for (RecordedEvent& event : page->events) events.push_back(std::move(event));
    next = page->next_position;
  }
  return events;
}

// Builds a log of kEventCount events in several streams (single events and batches), closes
// the store, and gives each test the log as written and the raw database to attack.
class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::path(::testing::TempDir()) / "tamper_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;

    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(/*read_only=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(AppendEvents(**store, kEventCount, "original"));
    absl::StatusOr<std::vector<RecordedEvent>> log = ReadWholeLog(**store);
    ASSERT_TRUE(log.ok()) << log.status();
    original_ = *std::move(log);
    ASSERT_EQ(original_.size(), kEventCount);
    ASSERT_EQ(Describe((*store)->Head().value()), Describe(RecordedHead(kLast)));
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  absl::StatusOr<std::unique_ptr<EventStore>> OpenStore(bool read_only) {
    Options options;
    options.path = dir_;
    options.clock = &clock_;
    options.read_only = read_only;
    return EventStore::Open(options);
  }

  // Appends `count` events, round-robin over a few streams, in batches of one to three.
  void AppendEvents(EventStore& store, uint64_t count, const std::string& tag) {
    static constexpr const char* kStreams[] = {"patient-1f0c", "patient-77a2", "careplan.9",
                                               "audit:ward-3"};
    for (uint64_t appended = 0, batch = 0; appended < count; ++batch) {
      std::vector<ProposedEvent> events;
      for (uint64_t i = 0; i < std::min<uint64_t>(batch % 3 + 1, count - appended); ++i) {
        const uint64_t n = appended + i;
        events.push_back({.event_id = absl::StrCat(tag, "-", n),
                          .type = "carehub.test.v1.NotePosted",
                          .data = absl::StrCat("{\"n\":", n, ",\"note\":\"", std::string(8 + n % 13, 'x'), "\"}"),
                          .metadata = absl::StrCat("correlation=", tag, "-", batch)});
      }
      clock_.Advance(absl::Seconds(1));
      const size_t size = events.size();
      absl::StatusOr<AppendResult> result =
          store.Append(kStreams[batch % 4], ExpectedVersion::Any(), std::move(events));
      ASSERT_TRUE(result.ok()) << result.status();
      appended += size;
    }
  }

  // Runs `attack` on the raw database; the store must be closed.
  void Tamper(const std::function<absl::Status(RawDatabase&)>& attack) {
    absl::StatusOr<std::unique_ptr<RawDatabase>> db = RawDatabase::Open(dir_);
    ASSERT_TRUE(db.ok()) << db.status();
    absl::Status s = attack(**db);
    ASSERT_TRUE(s.ok()) << s;
  }

  // Opens the store read-only, as an audit tool would, and verifies from `from`.
  absl::StatusOr<VerifyResult> VerifyAsAuditor(std::optional<LogHead> from) {
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(/*read_only=*/true);
    if (!store.ok()) {
      return absl::Status(store.status().code(),
                          absl::StrCat("read-only Open: ", store.status().message()));
    }
    return (*store)->Verify(from);
  }

  // Verifies as an auditor, then opens the store read-write, as the hub would; both must report
  // the same verification. The hub refuses (DataLoss) only a log damaged at its head, where an
  // append would extend the damage; the auditor must then have found damage at the head.
  absl::StatusOr<VerifyResult> ReopenAndVerify(std::optional<LogHead> from) {
    absl::StatusOr<VerifyResult> as_auditor = VerifyAsAuditor(from);
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(/*read_only=*/false);
    if (store.status().code() == absl::StatusCode::kDataLoss && as_auditor.ok() && !as_auditor->ok &&
        as_auditor->first_bad_position.has_value() && *as_auditor->first_bad_position + 2 >= kEventCount) {
      return as_auditor;
    }
    if (!store.ok()) {
      return absl::Status(store.status().code(),
                          absl::StrCat("read-write Open: ", store.status().message()));
    }
    absl::StatusOr<VerifyResult> as_hub = (*store)->Verify(from);
    if (as_auditor.ok() != as_hub.ok() ||
        (as_hub.ok() && Describe(*as_auditor) != Describe(*as_hub))) {
      return absl::InternalError(absl::StrCat(
          "read-only and read-write stores disagree: ",
          as_auditor.ok() ? Describe(*as_auditor) : as_auditor.status().ToString(), " vs ",
          as_hub.ok() ? Describe(*as_hub) : as_hub.status().ToString()));
    }
    return as_hub;
  }

  // A head as an auditor would have recorded it when `position` was the last event.
  LogHead RecordedHead(uint64_t position) const {
    return {.position = position, .hash = original_.at(position).hash};
  }
  // The verified head expected when verification from the start stops at `position`.
  LogHead HeadBefore(uint64_t position) const {
    return position == 0 ? LogHead{} : RecordedHead(position - 1);
  }

  // Asserts that verification from the start fails first at `position`, after `verified` events.
  void ExpectBrokenAt(const absl::StatusOr<VerifyResult>& result, uint64_t position,
                      uint64_t verified, const LogHead& last_good) {
    ASSERT_TRUE(result.ok()) << "a verification failure must be a result, not an error: "
                             << result.status();
    EXPECT_FALSE(result->ok) << Describe(*result);
    EXPECT_EQ(result->first_bad_position, position) << Describe(*result);
    EXPECT_EQ(result->events_verified, verified) << Describe(*result);
    EXPECT_EQ(Describe(result->head), Describe(last_good));
    EXPECT_FALSE(result->problem.empty()) << Describe(*result);
  }

  void ExpectIntact(const absl::StatusOr<VerifyResult>& result, uint64_t verified,
                    const LogHead& head) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->ok) << Describe(*result);
    EXPECT_EQ(result->events_verified, verified) << Describe(*result);
    EXPECT_EQ(Describe(result->head), Describe(head));
    EXPECT_EQ(result->first_bad_position, std::nullopt) << Describe(*result);
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::vector<RecordedEvent> original_;  // the log as written, by position
};

// --- Verify on an untouched log -----------------------------------------------------------------

TEST_F(TamperTest, UntouchedLogVerifiesFromTheStart) {
  ExpectIntact(ReopenAndVerify(std::nullopt), kEventCount, RecordedHead(kLast));
}

TEST_F(TamperTest, VerifyFromAnEarlierRecordedHeadChecksTheEventsAfterIt) {
  for (uint64_t p : {kFirst, uint64_t{7}, kMiddle, kLast - 1}) {
    SCOPED_TRACE(absl::StrCat("from head at ", p));
    ExpectIntact(ReopenAndVerify(RecordedHead(p)), kLast - p, RecordedHead(kLast));
  }
}

TEST_F(TamperTest, VerifyFromTheCurrentHeadChecksNothingAndSucceeds) {
  ExpectIntact(ReopenAndVerify(RecordedHead(kLast)), 0, RecordedHead(kLast));
}

// An auditor who recorded the head of an empty log holds no anchor: the whole log is checked.
TEST_F(TamperTest, VerifyFromTheEmptyLogsHeadIsVerifyFromTheStart) {
  ExpectIntact(ReopenAndVerify(LogHead{}), kEventCount, RecordedHead(kLast));
}

TEST_F(TamperTest, VerifyFromAHeadWithAWrongHashFailsAtThatPosition) {
  for (uint64_t p : {kFirst, kMiddle, kLast}) {
    SCOPED_TRACE(absl::StrCat("from head at ", p));
    LogHead forged = RecordedHead(p);
    forged.hash[5] ^= 0x40;
    absl::StatusOr<VerifyResult> result = ReopenAndVerify(forged);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->ok) << Describe(*result);
    EXPECT_EQ(result->first_bad_position, p) << Describe(*result);
    EXPECT_EQ(result->events_verified, 0u) << Describe(*result);
    EXPECT_FALSE(result->problem.empty());
  }
}

// A recorded head past today's head means events were removed from the end: a finding, reported
// at the first missing position.
TEST_F(TamperTest, VerifyFromPastTheHeadReportsTheFirstMissingPosition) {
  for (uint64_t p : {kEventCount, kEventCount + 1000}) {
    absl::StatusOr<VerifyResult> result = ReopenAndVerify(LogHead{.position = p, .hash = {}});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->ok) << Describe(*result);
    EXPECT_EQ(result->first_bad_position, kEventCount) << Describe(*result);
    EXPECT_EQ(result->events_verified, 0u) << Describe(*result);
  }
}

TEST(TamperEmptyLogTest, EmptyLogVerifies) {
  std::string pattern = (std::filesystem::path(::testing::TempDir()) / "tamper_test.XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  {
    Options options;
    options.path = pattern;
    absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<VerifyResult> result = (*store)->Verify(std::nullopt);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->ok) << Describe(*result);
    EXPECT_EQ(result->events_verified, 0u);
    EXPECT_EQ(Describe(result->head), Describe(LogHead{}));
  }
  std::filesystem::remove_all(pattern);
}

// --- (a) one flipped byte --------------------------------------------------------------------------

enum class Field { kPosition, kVersion, kRecordedAt, kStreamId, kEventId, kType, kData, kMetadata, kHash };

std::string FieldName(Field field) {
  switch (field) {
    case Field::kPosition: return "Position";
    case Field::kVersion: return "Version";
    case Field::kRecordedAt: return "RecordedAt";
    case Field::kStreamId: return "StreamId";
    case Field::kEventId: return "EventId";
    case Field::kType: return "Type";
    case Field::kData: return "Data";
    case Field::kMetadata: return "Metadata";
    case Field::kHash: return "Hash";
  }
  return "?";
}

// Where `field` lies in the stored value of `event`, per the grammar in codec.h, and the bytes
// that must be there.
std::pair<size_t, std::string> FieldBytes(const RecordedEvent& event, Field field) {
  const std::string* strings[] = {&event.stream_id, &event.event_id, &event.type, &event.data,
                                  &event.metadata};
  auto string_at = [&](int index) {
    size_t offset = kFixedRecordPrefix;
    for (int i = 0; i < index; ++i) offset += 4 + strings[i]->size();
    return std::make_pair(offset + 4, *strings[index]);
  };
  switch (field) {
    case Field::kPosition: return {1, internal::EncodeFixed64(event.position)};
    case Field::kVersion: return {9, internal::EncodeFixed64(event.version)};
    case Field::kRecordedAt:
      return {17, internal::EncodeFixed64(static_cast<uint64_t>(absl::ToUnixMicros(event.recorded_at)))};
    case Field::kStreamId: return string_at(0);
    case Field::kEventId: return string_at(1);
    case Field::kType: return string_at(2);
    case Field::kData: return string_at(3);
    case Field::kMetadata: return string_at(4);
    case Field::kHash: {
      auto [metadata_offset, metadata] = string_at(4);
      return {metadata_offset + metadata.size(), HashBytes(event.hash)};
    }
  }
  return {0, ""};
}

class ByteFlipTest : public TamperTest,
                     public ::testing::WithParamInterface<std::tuple<Field, uint64_t>> {};

TEST_P(ByteFlipTest, VerifyFailsAtTheFlippedEvent) {
  const Field field = std::get<0>(GetParam());
  const uint64_t k = std::get<1>(GetParam());
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) -> absl::Status {
    absl::StatusOr<std::string> value = db.Get(internal::kEventsFamily, internal::PositionKey(k));
    if (!value.ok()) return value.status();
    auto [offset, expected] = FieldBytes(original_[k], field);
    // The grammar in codec.h is what an attacker reads; check it matches the bytes on disk.
    EXPECT_EQ(value->size(), FieldBytes(original_[k], Field::kHash).first + kHashBytes);
    EXPECT_EQ(value->substr(offset, expected.size()), expected) << FieldName(field);
    // Fixed-width integers: flip the low bit of the last (least significant) byte, so that the
    // event claims a neighbouring position, version or time. Strings: a byte in the middle.
    const bool integer = field == Field::kPosition || field == Field::kVersion || field == Field::kRecordedAt;
    const size_t at = offset + (integer ? 7 : expected.size() / 2);
    (*value)[at] = static_cast<char>((*value)[at] ^ 0x01);
    return db.Put(internal::kEventsFamily, internal::PositionKey(k), *value);
  }));
  ExpectBrokenAt(ReopenAndVerify(std::nullopt), k, k, HeadBefore(k));
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, ByteFlipTest,
    ::testing::Combine(::testing::Values(Field::kPosition, Field::kVersion, Field::kRecordedAt,
                                         Field::kStreamId, Field::kEventId, Field::kType,
                                         Field::kData, Field::kMetadata, Field::kHash),
                       ::testing::Values(kFirst, kMiddle, kLast)),
    [](const ::testing::TestParamInfo<std::tuple<Field, uint64_t>>& info) {
      return absl::StrCat(FieldName(std::get<0>(info.param)), "AtPosition", std::get<1>(info.param));
    });

// A record that no longer parses is still a verification failure at its position, not an error
// ("verification failures are results, not errors").
const std::vector<std::pair<std::string, std::function<void(std::string&)>>>& RecordDamages() {
  static const auto* damages = new std::vector<std::pair<std::string, std::function<void(std::string&)>>>{
      {"magic byte", [](std::string& v) { v[0] = static_cast<char>(v[0] ^ 0x7f); }},
      {"stream-id length", [](std::string& v) { v[kFixedRecordPrefix] = static_cast<char>(0xff); }},
      {"truncated value", [](std::string& v) { v.resize(v.size() / 2); }},
      {"empty value", [](std::string& v) { v.clear(); }},
  };
  return *damages;
}

TEST_F(TamperTest, UndecodableRecordIsReportedAtItsPosition) {
  for (const auto& [name, damage] : RecordDamages()) {
    SCOPED_TRACE(name);
    ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) -> absl::Status {
      // From the original bytes each time, so that each damage is judged on its own.
      std::string value = internal::EncodeStoredEvent(original_[kMiddle]);
      damage(value);
      return db.Put(internal::kEventsFamily, internal::PositionKey(kMiddle), value);
    }));
    ExpectBrokenAt(ReopenAndVerify(std::nullopt), kMiddle, kMiddle, HeadBefore(kMiddle));
  }
}

// The same damage to the last event: whether the hub may resume appending on it is its own
// decision, but an audit tool must be able to open the log and be told where it breaks.
TEST_F(TamperTest, UndecodableLastRecordCanStillBeAudited) {
  for (const auto& [name, damage] : RecordDamages()) {
    SCOPED_TRACE(name);
    ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) -> absl::Status {
      std::string value = internal::EncodeStoredEvent(original_[kLast]);
      damage(value);
      return db.Put(internal::kEventsFamily, internal::PositionKey(kLast), value);
    }));
    ExpectBrokenAt(VerifyAsAuditor(std::nullopt), kLast, kLast, HeadBefore(kLast));
  }
}

// Keys beyond the head that are not the next position: a key that is no position at all, and a
// copy of an event at a position far past the head.
TEST_F(TamperTest, ForeignKeyAfterTheHeadCanStillBeAudited) {
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) {
    return db.Put(internal::kEventsFamily, "\xff-not-a-position", internal::EncodeStoredEvent(original_[kLast]));
  }));
  ExpectBrokenAt(VerifyAsAuditor(std::nullopt), kEventCount, kEventCount, RecordedHead(kLast));
}

TEST_F(TamperTest, EventPlantedPastTheHeadIsAGapNotANewHead) {
  constexpr uint64_t kPlanted = kEventCount + 10;
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) {
    RecordedEvent planted = original_[kLast];
    planted.position = kPlanted;
    planted.hash = internal::ChainHash(original_[kLast].hash, internal::EncodeRecord(planted));
    return db.Put(internal::kEventsFamily, internal::PositionKey(kPlanted), internal::EncodeStoredEvent(planted));
  }));
  ExpectBrokenAt(VerifyAsAuditor(std::nullopt), kEventCount, kEventCount, RecordedHead(kLast));
  // "On open the store checks that the global log is gapless at its head": the hub must not
  // take position kPlanted for its head and append after a gap of ten missing events.
  absl::StatusOr<std::unique_ptr<EventStore>> hub = OpenStore(/*read_only=*/false);
  EXPECT_EQ(hub.status().code(), absl::StatusCode::kDataLoss)
      << (hub.ok() ? absl::StrCat("opened with head ", Describe((*hub)->Head().value()))
                   : hub.status().ToString());
}

// --- (b) a deleted event, (c) two swapped events -----------------------------------------------

class DeletedEventTest : public TamperTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(DeletedEventTest, VerifyFailsAtTheGap) {
  const uint64_t k = GetParam();
  ASSERT_NO_FATAL_FAILURE(Tamper([k](RawDatabase& db) {
    return db.Delete(internal::kEventsFamily, internal::PositionKey(k));
  }));
  ExpectBrokenAt(ReopenAndVerify(std::nullopt), k, k, HeadBefore(k));
}

// The last event is left out: deleting it is a truncation (below).
INSTANTIATE_TEST_SUITE_P(Positions, DeletedEventTest, ::testing::Values(kFirst, kMiddle, kLast - 1));

class SwappedEventsTest : public TamperTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(SwappedEventsTest, VerifyFailsAtTheFirstOfThePair) {
  const uint64_t k = GetParam();
  ASSERT_NO_FATAL_FAILURE(Tamper([k](RawDatabase& db) -> absl::Status {
    absl::StatusOr<std::string> a = db.Get(internal::kEventsFamily, internal::PositionKey(k));
    absl::StatusOr<std::string> b = db.Get(internal::kEventsFamily, internal::PositionKey(k + 1));
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    if (absl::Status s = db.Put(internal::kEventsFamily, internal::PositionKey(k), *b); !s.ok()) return s;
    return db.Put(internal::kEventsFamily, internal::PositionKey(k + 1), *a);
  }));
  ExpectBrokenAt(ReopenAndVerify(std::nullopt), k, k, HeadBefore(k));
}

INSTANTIATE_TEST_SUITE_P(Positions, SwappedEventsTest, ::testing::Values(kFirst, kMiddle, kLast - 1));

// --- (d) a rewritten event with a valid hash of its own ----------------------------------------

// Replaces event k's data and stores a hash that is correct for the new record given event k-1,
// as an attacker who knows the codec would. Returns the forged event.
RecordedEvent ForgeEvent(const std::vector<RecordedEvent>& original, uint64_t k, const Hash& previous) {
  RecordedEvent forged = original[k];
  forged.data = "{\"n\":0,\"note\":\"forged\"}";
  forged.hash = internal::ChainHash(previous, internal::EncodeRecord(forged));
  return forged;
}

class RewrittenEventTest : public TamperTest, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(RewrittenEventTest, ChainBreaksAtTheNextEventOrAtARecordedHead) {
  const uint64_t k = GetParam();
  const RecordedEvent forged = ForgeEvent(original_, k, HeadBefore(k).hash);
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) {
    return db.Put(internal::kEventsFamily, internal::PositionKey(k), internal::EncodeStoredEvent(forged));
  }));
  const LogHead forged_head = {.position = k, .hash = forged.hash};

  if (k < kLast) {
    // Event k itself reproduces its stored hash; event k+1 was chained to the real one.
    ExpectBrokenAt(ReopenAndVerify(std::nullopt), k + 1, k + 1, forged_head);
  } else {
    // Nothing follows the forged event, so the chain alone cannot tell: only an anchor can.
    ExpectIntact(ReopenAndVerify(std::nullopt), kEventCount, forged_head);
  }
  // An auditor who recorded the head at k sees that its hash is no longer the stored one.
  absl::StatusOr<VerifyResult> from_k = ReopenAndVerify(RecordedHead(k));
  ASSERT_TRUE(from_k.ok()) << from_k.status();
  EXPECT_FALSE(from_k->ok) << Describe(*from_k);
  EXPECT_EQ(from_k->first_bad_position, k) << Describe(*from_k);
  EXPECT_EQ(from_k->events_verified, 0u) << Describe(*from_k);
  if (k > 0 && k < kLast) {
    // From an earlier anchor, the forged event verifies and its successor does not.
    absl::StatusOr<VerifyResult> from_before = ReopenAndVerify(RecordedHead(k - 1));
    ASSERT_TRUE(from_before.ok()) << from_before.status();
    EXPECT_FALSE(from_before->ok) << Describe(*from_before);
    EXPECT_EQ(from_before->first_bad_position, k + 1) << Describe(*from_before);
    EXPECT_EQ(from_before->events_verified, 1u) << Describe(*from_before);
    EXPECT_EQ(Describe(from_before->head), Describe(forged_head));
  }
}

INSTANTIATE_TEST_SUITE_P(Positions, RewrittenEventTest, ::testing::Values(kFirst, kMiddle, kLast));

// The attacker also recomputes every later hash: the log is self-consistent again, and only a
// head recorded at or after the forgery exposes it. Pinned down so that nobody mistakes
// Verify(nullopt) for an audit.
TEST_F(TamperTest, RechainedTailIsCaughtOnlyByALaterRecordedHead) {
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) -> absl::Status {
    Hash previous = original_[kMiddle - 1].hash;
    for (uint64_t p = kMiddle; p <= kLast; ++p) {
      RecordedEvent event = p == kMiddle ? ForgeEvent(original_, p, previous) : original_[p];
      event.hash = internal::ChainHash(previous, internal::EncodeRecord(event));
      previous = event.hash;
      if (absl::Status s = db.Put(internal::kEventsFamily, internal::PositionKey(p),
                                  internal::EncodeStoredEvent(event));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<VerifyResult> from_start = ReopenAndVerify(std::nullopt);
  ASSERT_TRUE(from_start.ok()) << from_start.status();
  EXPECT_TRUE(from_start->ok) << Describe(*from_start);

  for (uint64_t p : {kMiddle, kMiddle + 3, kLast}) {
    SCOPED_TRACE(absl::StrCat("auditor's head at ", p));
    absl::StatusOr<VerifyResult> result = ReopenAndVerify(RecordedHead(p));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->ok) << Describe(*result);
    EXPECT_EQ(result->first_bad_position, p) << Describe(*result);
  }
}

// --- (e) a truncated tail ---------------------------------------------------------------------

// Removes events from `first` to the end consistently from every column family, so that the
// store sees a shorter, well-formed log.
absl::Status Truncate(RawDatabase& db, const std::vector<RecordedEvent>& log, uint64_t first) {
  for (uint64_t p = first; p < log.size(); ++p) {
    const RecordedEvent& e = log[p];
    for (absl::Status s : {db.Delete(internal::kEventsFamily, internal::PositionKey(p)),
                           db.Delete(internal::kIdsFamily, e.event_id)}) {
      if (!s.ok()) return s;
    }
  }
  // The streams family holds one run per append (codec.h); AppendEvents gives each append its own
  // metadata. A run wholly past the cut goes; a run the cut splits keeps its first part.
  for (uint64_t p = 0; p < log.size();) {
    uint64_t end = p + 1;
    while (end < log.size() && log[end].metadata == log[p].metadata) ++end;
    const RecordedEvent& head = log[p];
    std::string key = internal::StreamVersionKey(head.stream_id, head.version);
    absl::Status s = absl::OkStatus();
    if (p >= first) {
      s = db.Delete(internal::kStreamsFamily, key);
    } else if (end > first) {
      s = db.Put(internal::kStreamsFamily, key,
                 internal::EncodeStreamRunValue(p, static_cast<uint32_t>(first - p)));
    }
    if (!s.ok()) return s;
    p = end;
  }
  return absl::OkStatus();
}

constexpr uint64_t kTruncateFrom = kEventCount - 5;

TEST_F(TamperTest, TruncatedTailIsReportedFromALaterRecordedHead) {
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) { return Truncate(db, original_, kTruncateFrom); }));
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(/*read_only=*/true);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Describe((*store)->Head().value()), Describe(RecordedHead(kTruncateFrom - 1)));
  }
  // The shorter log is consistent in itself...
  ExpectIntact(ReopenAndVerify(std::nullopt), kTruncateFrom, RecordedHead(kTruncateFrom - 1));
  ExpectIntact(ReopenAndVerify(RecordedHead(kTruncateFrom - 1)), 0, RecordedHead(kTruncateFrom - 1));
  // ...but an auditor's later head lies past it: the first removed position is reported.
  for (uint64_t p : {kTruncateFrom, kLast}) {
    absl::StatusOr<VerifyResult> result = ReopenAndVerify(RecordedHead(p));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->ok) << "from head at " << p << ": " << Describe(*result);
    EXPECT_EQ(result->first_bad_position, kTruncateFrom) << "from head at " << p << ": " << Describe(*result);
  }
}

// After truncating, the attacker appends other events until the log is as long as before: the
// auditor's head now lies inside the log, and its hash no longer matches.
TEST_F(TamperTest, TruncatedAndRegrownTailFailsAtARecordedHead) {
  ASSERT_NO_FATAL_FAILURE(Tamper([&](RawDatabase& db) { return Truncate(db, original_, kTruncateFrom); }));
  LogHead regrown_head;
  {
    absl::StatusOr<std::unique_ptr<EventStore>> store = OpenStore(/*read_only=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(AppendEvents(**store, kEventCount - kTruncateFrom + 3, "regrown"));
    regrown_head = (*store)->Head().value();
  }
  ASSERT_EQ(regrown_head.position, kEventCount + 2);
  ExpectIntact(ReopenAndVerify(std::nullopt), kEventCount + 3, regrown_head);
  absl::StatusOr<VerifyResult> result = ReopenAndVerify(RecordedHead(kLast));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->ok) << Describe(*result);
  EXPECT_EQ(result->first_bad_position, kLast) << Describe(*result);
}

}  // namespace
}  // namespace carehub::eventstore
