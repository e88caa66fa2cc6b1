#include "carehub/audit/access_log.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "carehub/audit/audit_event.h"
#include "carehub/base/clock.h"
#include "eventstore/internal/codec.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"

namespace carehub::audit {
namespace {

using Json = nlohmann::json;

constexpr char kUser[] = "SE2321000016-U001";
constexpr char kUnit[] = "SE2321000016-E001";
constexpr char kOrg[] = "SE2321000016";
constexpr char kOtherUser[] = "SE2120001231-U777";

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "carehub-al-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    Open();
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(bool read_only = false) {
    log_.reset();
    absl::StatusOr<std::unique_ptr<AccessLog>> log =
        AccessLog::Open({.path = path(), .clock = &clock_, .read_only = read_only});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }
  std::string path() const { return dir_ + "/access-log"; }

  static AccessEntry Entry(AccessAgent agent, std::vector<std::string> patients, std::string interaction = "read") {
    AccessEntry e;
    e.agent = std::move(agent);
    e.interaction = std::move(interaction);
    e.resource_type = "CarePlan";
    e.status = 200;
    e.patients = std::move(patients);
    for (const std::string& p : e.patients) e.resources.push_back({"CarePlan", absl::StrCat("plan-", p), 3});
    return e;
  }
  uint64_t Record(const AccessEntry& e) {
    absl::StatusOr<uint64_t> position = log_->Record(e);
    EXPECT_TRUE(position.ok()) << position.status();
    clock_.Advance(absl::Minutes(1));
    return position.value_or(UINT64_MAX);
  }
  std::vector<uint64_t> Positions(const AccessQuery& query) {
    absl::StatusOr<AccessPage> page = log_->Find(query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<uint64_t> out;
    if (page.ok()) {
      for (const AccessEntry& e : page->entries) out.push_back(e.position);
    }
    return out;
  }

  std::string dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01T00:00:00Z
  std::unique_ptr<AccessLog> log_;
};

TEST_F(AccessLogTest, EntriesRoundTripWithPositionAndRecordedTime) {
  AccessEntry e = Entry({kUser, kOrg, kUnit}, {"p2", "p1", "p2"}, "search-type");
  e.resources.push_back({"Patient", "p1", 0});
  absl::Notification durable;
  absl::StatusOr<uint64_t> position;
  log_->RecordAsync(e, [&](absl::StatusOr<uint64_t> p) {
    position = p;
    durable.Notify();
  });
  durable.WaitForNotification();
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(*position, 0u);
  absl::StatusOr<AccessEntry> got = log_->Get(0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->recorded, clock_.Now());
  EXPECT_EQ(got->patients, (std::vector<std::string>{"p1", "p2"}));  // sorted, unique
  AccessEntry expected = e;
  expected.patients = {"p1", "p2"};
  expected.recorded = got->recorded;
  EXPECT_EQ(*got, expected);
  EXPECT_EQ(log_->Get(1).status().code(), absl::StatusCode::kNotFound);
  // Durable: a fresh read-only open of the closed log finds it.
  Open(/*read_only=*/true);
  ASSERT_TRUE(log_->Get(0).ok());
  EXPECT_EQ(log_->Record(e).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Reads from many threads at once go into shared appends; each still gets its own position,
// and the entry stored there is its own.
TEST_F(AccessLogTest, ConcurrentEntriesShareAppendsAndEachGetsItsOwnPosition) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, std::string>> recorded;  // position, the patient it named
  absl::BlockingCounter durable(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string patient = absl::StrCat("p", t, "-", i);
        log_->RecordAsync(Entry({}, {patient}), [&, patient](absl::StatusOr<uint64_t> position) {
          EXPECT_TRUE(position.ok()) << position.status();
          absl::MutexLock lock(&mu);
          recorded.emplace_back(position.value_or(UINT64_MAX), patient);
          durable.DecrementCount();
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  durable.Wait();
  std::sort(recorded.begin(), recorded.end());
  ASSERT_EQ(recorded.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < recorded.size(); ++i) {
    ASSERT_EQ(recorded[i].first, i) << "a gap or a duplicate position";
    absl::StatusOr<AccessEntry> stored = log_->Get(i);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->patients, std::vector<std::string>{recorded[i].second});
  }
  absl::StatusOr<eventstore::VerifyResult> verified = log_->Verify(std::nullopt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->events_verified, recorded.size());
}

// An entry the store would refuse fails alone, at once; the entries around it are recorded.
TEST_F(AccessLogTest, AnEntryTheStoreRefusesFailsAloneAndTheOthersAreRecorded) {
  std::vector<absl::StatusOr<uint64_t>> results(3, absl::UnknownError("not answered"));
  absl::BlockingCounter answered(3);
  AccessEntry bad = Entry({}, {"has space"});  // not a valid index key
  const std::vector<AccessEntry> entries = {Entry({}, {"p1"}), bad, Entry({}, {"p2"})};
  for (size_t i = 0; i < entries.size(); ++i) {
    log_->RecordAsync(entries[i], [&, i](absl::StatusOr<uint64_t> position) {
      results[i] = std::move(position);
      answered.DecrementCount();
    });
  }
  answered.Wait();
  EXPECT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[2].ok()) << results[2].status();
  EXPECT_EQ(Positions({.patient = "p2"}), std::vector<uint64_t>{1});
}

// Closing the log while entries wait answers every one of them, durable or not.
TEST_F(AccessLogTest, ClosingAnswersEveryWaitingEntry) {
  constexpr int kEntries = 500;
  std::atomic<int> ok{0}, unavailable{0};
  for (int i = 0; i < kEntries; ++i) {
    log_->RecordAsync(Entry({}, {absl::StrCat("p", i)}), [&](absl::StatusOr<uint64_t> position) {
      if (position.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(position.status().code(), absl::StatusCode::kUnavailable) << position.status();
        ++unavailable;
      }
    });
  }
  log_.reset();
  EXPECT_EQ(ok + unavailable, kEntries);
  Open(/*read_only=*/true);
  absl::StatusOr<eventstore::VerifyResult> verified = log_->Verify(std::nullopt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->events_verified, static_cast<uint64_t>(ok.load())) << "every acknowledged entry is stored";
}

TEST_F(AccessLogTest, FindsByPatientAgentAndTimeNewestFirstWithPaging) {
  const uint64_t a = Record(Entry({kUser, kOrg, kUnit}, {"p1"}));                   // 00:00
  const uint64_t b = Record(Entry({kOtherUser, "SE2120001231", ""}, {"p1", "p2"}));  // 00:01
  const uint64_t c = Record(Entry({}, {"p2"}));                                      // 00:02
  const uint64_t d = Record(Entry({kUser, kOrg, kUnit}, {"p2"}, "search-type"));     // 00:03
  EXPECT_EQ(Positions({.patient = "p1"}), (std::vector<uint64_t>{b, a}));
  EXPECT_EQ(Positions({.patient = "p2"}), (std::vector<uint64_t>{d, c, b}));
  EXPECT_EQ(Positions({.patient = "p3"}), (std::vector<uint64_t>{}));
  // An agent is any of the three HSA-ids.
  EXPECT_EQ(Positions({.agent = kUser}), (std::vector<uint64_t>{d, a}));
  EXPECT_EQ(Positions({.agent = kUnit}), (std::vector<uint64_t>{d, a}));
  EXPECT_EQ(Positions({.agent = kOrg}), (std::vector<uint64_t>{d, a}));
  EXPECT_EQ(Positions({.agent = "anonymous"}), (std::vector<uint64_t>{c}));
  EXPECT_EQ(Positions({.patient = "p2", .agent = kUser}), (std::vector<uint64_t>{d}));
  EXPECT_EQ(Positions({}), (std::vector<uint64_t>{d, c, b, a}));
  const absl::Time start = absl::FromUnixSeconds(1767225600);
  EXPECT_EQ(Positions({.patient = "p2", .from = start + absl::Minutes(1), .to = start + absl::Minutes(3)}),
            (std::vector<uint64_t>{c, b}));
  EXPECT_EQ(Positions({.from = start + absl::Minutes(10)}), (std::vector<uint64_t>{}));

  absl::StatusOr<AccessPage> first = log_->Find({.patient = "p2", .limit = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->entries.size(), 2u);
  ASSERT_TRUE(first->next_before.has_value());
  EXPECT_EQ(Positions({.patient = "p2", .limit = 2, .before = first->next_before}), (std::vector<uint64_t>{b}));
  absl::StatusOr<AccessPage> all = log_->Find({.patient = "p2", .limit = 3});
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->next_before.has_value());
  EXPECT_EQ(log_->Find({.limit = 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

// Reads recorded together share appends, which file each of their agents once, under the
// append's first entry: a lookup by agent still finds every entry of the agent, newest first,
// across pages that end inside an append.
TEST_F(AccessLogTest, AnAppendFilesEachAgentOnceAndEveryEntryIsFoundByAgent) {
  const std::vector<AccessAgent> agents = {
      {kUser, kOrg, kUnit}, {kOtherUser, kOrg, "SE2321000016-E002"}, {}};
  constexpr int kEntries = 300;
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, int>> recorded;  // position, index into `agents`
  absl::BlockingCounter durable(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    AccessEntry entry = Entry(agents[i % 3], {absl::StrCat("p", i)});
    log_->RecordAsync(std::move(entry), [&, i](absl::StatusOr<uint64_t> position) {
      EXPECT_TRUE(position.ok()) << position.status();
      absl::MutexLock lock(&mu);
      recorded.emplace_back(position.value_or(UINT64_MAX), i % 3);
      durable.DecrementCount();
    });
  }
  durable.Wait();
  auto expected = [&](auto belongs) {
    std::vector<uint64_t> out;
    for (const auto& [position, agent] : recorded) {
      if (belongs(agent)) out.push_back(position);
    }
    std::sort(out.rbegin(), out.rend());
    return out;
  };
  // Every page of 7, each continuing below the last.
  auto paged = [&](const std::string& agent) {
    std::vector<uint64_t> out;
    std::optional<uint64_t> before;
    for (;;) {
      absl::StatusOr<AccessPage> page = log_->Find({.agent = agent, .limit = 7, .before = before});
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return out;
      for (const AccessEntry& e : page->entries) out.push_back(e.position);
      if (!page->next_before.has_value()) return out;
      before = page->next_before;
    }
  };
  EXPECT_EQ(paged(kUser), expected([](int a) { return a == 0; }));
  EXPECT_EQ(paged(kOtherUser), expected([](int a) { return a == 1; }));
  EXPECT_EQ(paged(kOrg), expected([](int a) { return a != 2; }));
  EXPECT_EQ(paged(kUnit), expected([](int a) { return a == 0; }));
  EXPECT_EQ(paged("anonymous"), expected([](int a) { return a == 2; }));
  // p3 was read by kUser (3 % 3 == 0).
  EXPECT_EQ(Positions({.patient = "p3", .agent = kOtherUser}), std::vector<uint64_t>{});
  EXPECT_EQ(Positions({.patient = "p3", .agent = kOrg}).size(), 1u);

  // Fewer agent keys than entries: the appends were shared.
  absl::StatusOr<eventstore::ReadAllResult> filed =
      log_->store().ReadIndex({.index_key = absl::StrCat("agent:", kOrg), .limit = kEntries});
  ASSERT_TRUE(filed.ok()) << filed.status();
  EXPECT_GT(filed->events.size(), 0u);
  EXPECT_LT(filed->events.size(), size_t{kEntries / 3});
}

TEST_F(AccessLogTest, AnEntryMayNameThousandsOfPatients) {
  std::vector<std::string> patients;
  for (int i = 0; i < 3000; ++i) patients.push_back(absl::StrCat("p", i));
  const uint64_t position = Record(Entry({kUser, kOrg, kUnit}, patients, "search-type"));
  EXPECT_EQ(Positions({.patient = "p2999"}), (std::vector<uint64_t>{position}));
}

TEST_F(AccessLogTest, HashChainVerifiesAndATamperedEntryIsFound) {
  for (int i = 0; i < 5; ++i) Record(Entry({kUser, kOrg, kUnit}, {absl::StrCat("p", i)}));
  absl::StatusOr<eventstore::VerifyResult> ok = log_->store().Verify(std::nullopt);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->events_verified, 5u);
  log_.reset();

  // Rewrite who read entry 2, as someone covering their tracks would, straight in RocksDB.
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, path(), &names).ok());
    for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    ASSERT_TRUE(rocksdb::DB::Open({}, path(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* events = nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == eventstore::internal::kEventsFamily) events = handles[i];
    }
    ASSERT_NE(events, nullptr);
    const std::string key = eventstore::internal::PositionKey(2);
    std::string value;
    ASSERT_TRUE(db->Get({}, events, key, &value).ok());
    const size_t at = value.find(kUser);
    ASSERT_NE(at, std::string::npos);
    value.replace(at, std::string(kUser).size(), kOtherUser);
    ASSERT_TRUE(db->Put({}, events, key, value).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  Open(/*read_only=*/true);
  absl::StatusOr<eventstore::VerifyResult> bad = log_->store().Verify(std::nullopt);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->first_bad_position, std::optional<uint64_t>(2));
}

TEST_F(AccessLogTest, AuditEventNamesAgentsPatientsAndResources) {
  AccessEntry e = Entry({kUser, kOrg, kUnit}, {"p1"}, "operation");
  e.operation = "everything";
  e.resource_type = "Patient";
  e.position = 7;
  e.recorded = absl::FromUnixMicros(1767225600123456);
  Json ae = Json::parse(AuditEventJson(e));
  EXPECT_EQ(ae["resourceType"], "AuditEvent");
  EXPECT_EQ(ae["id"], "7");
  EXPECT_EQ(ae["type"]["code"], "rest");
  EXPECT_EQ(ae["subtype"][0]["code"], "operation");
  EXPECT_EQ(ae["subtype"][1]["code"], "http://hl7.org/fhir/OperationDefinition/Patient-everything");
  EXPECT_EQ(ae["action"], "E");
  EXPECT_EQ(ae["recorded"], "2026-01-01T00:00:00.123456Z");
  EXPECT_EQ(ae["outcome"], "0");
  ASSERT_EQ(ae["agent"].size(), 3u);
  EXPECT_EQ(ae["agent"][0]["who"]["identifier"]["system"], kHsaIdSystem);
  EXPECT_EQ(ae["agent"][0]["who"]["identifier"]["value"], kUser);
  EXPECT_EQ(ae["agent"][0]["requestor"], true);
  EXPECT_EQ(ae["agent"][1]["who"]["identifier"]["value"], kUnit);
  EXPECT_EQ(ae["agent"][2]["who"]["identifier"]["value"], kOrg);
  EXPECT_EQ(ae["agent"][2]["requestor"], false);
  EXPECT_EQ(ae["source"]["observer"]["display"], "carehub");
  ASSERT_EQ(ae["entity"].size(), 2u);
  EXPECT_EQ(ae["entity"][0]["what"]["reference"], "Patient/p1");
  EXPECT_EQ(ae["entity"][1]["what"]["reference"], "CarePlan/plan-p1/_history/3");

  AccessEntry anonymous = Entry({}, {}, "read");
  anonymous.status = 404;
  Json an = Json::parse(AuditEventJson(anonymous));
  EXPECT_EQ(an["action"], "R");
  EXPECT_EQ(an["outcome"], "4");
  ASSERT_EQ(an["agent"].size(), 1u);
  EXPECT_EQ(an["agent"][0]["who"]["display"], "anonymous");
  EXPECT_FALSE(an.contains("entity"));
}

TEST(PatientsReferencedByTest, FindsThePatientItselfAndItsReferences) {
  std::vector<std::string> out;
  PatientsReferencedBy("Patient", "abc", R"({"resourceType":"Patient","id":"abc"})", &out);
  PatientsReferencedBy("CarePlan", "x",
                       R"({"subject":{"reference":"Patient/p-1.2"},"author":{"reference":"Practitioner/q"},)"
                       R"("x":[{"reference":"Patient/p9/_history/2"}]})",
                       &out);
  EXPECT_EQ(out, (std::vector<std::string>{"abc", "p-1.2", "p9"}));

  out.clear();
  PatientsReferencedBy("CarePlan", "x", "", &out);
  PatientsReferencedBy("CarePlan", "x", R"("reference":"Patient/)", &out);  // the marker at the very end
  PatientsReferencedBy("CarePlan", "x", R"({"reference":"Patient/z"})", &out);
  EXPECT_EQ(out, (std::vector<std::string>{"z"}));
}

// The stored form is what a JSON library would write (members sorted, as entries were first
// written with one), for any text a header may carry.
TEST(EncodeAccessEntryTest, WritesWhatAJsonLibraryWouldAndReadsBack) {
  AccessEntry e;
  e.agent = {.user_hsa_id = kUser, .organization_hsa_id = "", .care_unit_hsa_id = kUnit};
  e.interaction = "operation";
  e.operation = "everything";
  e.resource_type = "Patient";
  e.status = 200;
  e.patients = {"p1", "p2"};
  e.resources = {{"Patient", "p1", 4}, {"CarePlan", "c-9", 0}};
  Json expected = {{"user", kUser},
                   {"organization", ""},
                   {"care_unit", kUnit},
                   {"interaction", "operation"},
                   {"operation", "everything"},
                   {"type", "Patient"},
                   {"status", 200},
                   {"patients", {"p1", "p2"}},
                   {"resources", {{"Patient", "p1", 4}, {"CarePlan", "c-9", 0}}}};
  EXPECT_EQ(EncodeAccessEntry(e), expected.dump());

  AccessEntry empty;
  EXPECT_EQ(Json::parse(EncodeAccessEntry(empty))["patients"], Json::array());

  // Text a client sent in a header: quotes, backslashes, controls and non-ASCII survive a round
  // trip; bytes that are not UTF-8 become U+FFFD rather than breaking the JSON.
  e.agent.organization_hsa_id = "Org \"Nära\" \\ \t\x01 vård";
  e.operation = "bad\xff";
  eventstore::RecordedEvent event{.position = 7, .type = kAccessEventType, .data = EncodeAccessEntry(e)};
  absl::StatusOr<AccessEntry> decoded = DecodeAccessEntry(event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->agent, e.agent);
  EXPECT_EQ(decoded->operation, "bad\uFFFD");
  EXPECT_EQ(decoded->resources, e.resources);
  EXPECT_EQ(decoded->patients, e.patients);
  EXPECT_EQ(decoded->status, 200);
}

}  // namespace
}  // namespace carehub::audit
