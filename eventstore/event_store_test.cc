#include "carehub/eventstore/event_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace carehub::eventstore {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "carehub-es-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_ + "/log"; }

 private:
  std::string path_;
};

ProposedEvent Event(std::string id, std::string type = "test.Happened", std::string data = "payload") {
  return ProposedEvent{.event_id = std::move(id), .type = std::move(type), .data = std::move(data), .metadata = "m"};
}

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(size_t recent_capacity = 65536) {
    store_.reset();
    Options options{.path = dir_.path(), .clock = &clock_, .recent_events_capacity = recent_capacity};
    absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  std::vector<RecordedEvent> ReadAllEvents() {
    std::vector<RecordedEvent> all;
    uint64_t from = 0;
    for (;;) {
      absl::StatusOr<ReadAllResult> r = store_->ReadAll({.from_position = from, .limit = 10000});
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return all;
      for (auto& e : r->events) all.push_back(std::move(e));
      if (!r->next_position.has_value()) return all;
      from = *r->next_position;
    }
  }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1767225600)};
  std::unique_ptr<EventStore> store_;
};

TEST_F(EventStoreTest, AppendsAndReadsBackWithVersionsPositionsAndChain) {
  auto r1 = store_->Append("patient-a", ExpectedVersion::NoStream(), {Event("e1"), Event("e2")});
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->first_position, 0u);
  EXPECT_EQ(r1->last_position, 1u);
  EXPECT_EQ(r1->first_version, 0u);
  EXPECT_EQ(r1->last_version, 1u);
  EXPECT_FALSE(r1->idempotent_replay);
  clock_.Advance(absl::Seconds(3));
  auto r2 = store_->Append("patient-b", ExpectedVersion::Any(), {Event("e3")});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->first_position, 2u);
  EXPECT_EQ(r2->first_version, 0u);

  auto stream = store_->ReadStream({.stream_id = "patient-a"});
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[1].event_id, "e2");
  EXPECT_EQ((*stream)[1].version, 1u);
  EXPECT_EQ((*stream)[1].data, "payload");
  EXPECT_EQ((*stream)[1].metadata, "m");
  EXPECT_EQ((*stream)[0].recorded_at, absl::FromUnixSeconds(1767225600));

  std::vector<RecordedEvent> all = ReadAllEvents();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].recorded_at, absl::FromUnixSeconds(1767225603));
  EXPECT_NE(all[0].hash, all[1].hash);
  EXPECT_EQ(store_->Head().value().position, std::optional<uint64_t>(2));
  EXPECT_EQ(store_->Head().value().hash, all[2].hash);
  EXPECT_EQ(*store_->StreamVersion("patient-a"), 1u);
  EXPECT_EQ(store_->StreamVersion("patient-none").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EventStoreTest, ExpectedVersionConflictsReportTheActualVersion) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::StreamExists(), {Event("x")}).status().code() ==
              absl::StatusCode::kFailedPrecondition);
  auto missing = store_->Append("s", ExpectedVersion::Exact(0), {Event("x")});
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(AppendConflict(missing.status()).has_value());
  EXPECT_FALSE(AppendConflict(missing.status())->has_value());

  ASSERT_TRUE(store_->Append("s", ExpectedVersion::NoStream(), {Event("a"), Event("b")}).ok());
  auto again = store_->Append("s", ExpectedVersion::NoStream(), {Event("c")});
  ASSERT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AppendConflict(again.status()), std::optional<std::optional<uint64_t>>(1));
  EXPECT_NE(again.status().message().find("actual 1"), std::string::npos) << again.status();

  auto stale = store_->Append("s", ExpectedVersion::Exact(0), {Event("c")});
  EXPECT_EQ(AppendConflict(stale.status()), std::optional<std::optional<uint64_t>>(1));
  EXPECT_TRUE(store_->Append("s", ExpectedVersion::Exact(1), {Event("c")}).ok());
  EXPECT_TRUE(store_->Append("s", ExpectedVersion::StreamExists(), {Event("d")}).ok());
  EXPECT_EQ(*store_->StreamVersion("s"), 3u);
  EXPECT_FALSE(AppendConflict(absl::InvalidArgumentError("x")).has_value());
  // A transport rebuilding the status keeps the actual version readable.
  EXPECT_EQ(AppendConflict(WithActualVersion(absl::FailedPreconditionError("x"), 5)),
            std::optional<std::optional<uint64_t>>(5));
  EXPECT_EQ(AppendConflict(WithActualVersion(absl::FailedPreconditionError("x"), std::nullopt)),
            std::optional<std::optional<uint64_t>>(std::optional<uint64_t>()));
}

TEST_F(EventStoreTest, ReappendingKnownIdsReturnsOriginalResultAndWritesNothing) {
  auto first = store_->Append("s", ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->Append("t", ExpectedVersion::Any(), {Event("c")}).ok());
  LogHead head = store_->Head().value();

  // Even with an expected version that no longer holds: this is a retry of a lost answer.
  Reopen();  // the id index is durable, not a cache
  auto replay = store_->Append("s", ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay);
  EXPECT_EQ(replay->first_position, first->first_position);
  EXPECT_EQ(replay->last_position, first->last_position);
  EXPECT_EQ(replay->last_version, 1u);
  EXPECT_EQ(store_->Head().value(), head);

  EXPECT_EQ(store_->Append("s", ExpectedVersion::Any(), {Event("a", "test.Happened", "other")}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Append("u", ExpectedVersion::Any(), {Event("a")}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Append("s", ExpectedVersion::Any(), {Event("a"), Event("new")}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Append("s", ExpectedVersion::Any(), {Event("new"), Event("b")}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Head().value(), head);
}

TEST(EventStoreWithoutIdIndexTest, RepeatedIdsAreWrittenAgainAndTheChainHolds) {
  TempDir dir;
  ManualClock clock{absl::FromUnixSeconds(1767225600)};
  absl::StatusOr<std::unique_ptr<EventStore>> store =
      EventStore::Open({.path = dir.path(), .clock = &clock, .index_event_ids = false});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append("s", ExpectedVersion::Any(), {Event("a")}).ok());
  absl::StatusOr<AppendResult> again = (*store)->Append("s", ExpectedVersion::Any(), {Event("a")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->idempotent_replay);
  EXPECT_EQ(again->first_position, 1u);
  EXPECT_EQ(again->last_version, 1u);
  // Within one append ids must still differ: that is validation, not the index.
  EXPECT_EQ((*store)->Append("s", ExpectedVersion::Any(), {Event("b"), Event("b")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ReadAllResult> all = (*store)->ReadAll({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 2u);
  EXPECT_EQ(all->events[1].event_id, "a");
  absl::StatusOr<VerifyResult> verify = (*store)->Verify(std::nullopt);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok);
}

// The names of this process's threads, as top -H shows them.
std::multiset<std::string> ThreadNames() {
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

TEST(EventStoreThreadsTest, EachStoreNamesItsThreadsWithItsPrefix) {
  TempDir care_dir, audit_dir;
  absl::StatusOr<std::unique_ptr<EventStore>> care = EventStore::Open({.path = care_dir.path()});
  absl::StatusOr<std::unique_ptr<EventStore>> audit =
      EventStore::Open({.path = audit_dir.path(), .thread_prefix = "audit-log"});
  ASSERT_TRUE(care.ok()) << care.status();
  ASSERT_TRUE(audit.ok()) << audit.status();
  // Each thread names itself as it starts.
  const std::multiset<std::string> expected = {"es-writer", "es-decider", "es-completer",
                                               "audit-log-write", "audit-log-decid",
                                               "audit-log-compl"};
  std::multiset<std::string> found;
  for (int attempt = 0; attempt < 500; ++attempt) {
    found.clear();
    for (const std::string& name : ThreadNames()) {
      if (expected.count(name) > 0) found.insert(name);
    }
    if (found == expected) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(found, expected);
}

TEST_F(EventStoreTest, InvalidInputIsRejectedAndChangesNothing) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), {Event("a")}).ok());
  LogHead head = store_->Head().value();
  auto code = [&](std::string_view stream, std::vector<ProposedEvent> events) {
    return store_->Append(stream, ExpectedVersion::Any(), std::move(events)).status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code("", {Event("b")}), kInvalid);
  EXPECT_EQ(code("has space", {Event("b")}), kInvalid);
  EXPECT_EQ(code(std::string_view("nul\0byte", 8), {Event("b")}), kInvalid);
  EXPECT_EQ(code("-leading", {Event("b")}), kInvalid);
  EXPECT_EQ(code(std::string(129, 'x'), {Event("b")}), kInvalid);
  EXPECT_EQ(code("s", {}), kInvalid);
  EXPECT_EQ(code("s", {Event("")}), kInvalid);
  EXPECT_EQ(code("s", {Event("id with space")}), kInvalid);
  EXPECT_EQ(code("s", {Event("b", "")}), kInvalid);
  EXPECT_EQ(code("s", {Event("b", "bad type!")}), kInvalid);
  EXPECT_EQ(code("s", {Event("b", "t", std::string((1 << 20) + 1, 'x'))}), kInvalid);
  EXPECT_EQ(code("s", {Event("b"), Event("b")}), kInvalid);
  std::vector<ProposedEvent> many;
  for (int i = 0; i < 1001; ++i) many.push_back(Event(absl::StrCat("m", i)));
  EXPECT_EQ(code("s", std::move(many)), kInvalid);
  EXPECT_EQ(store_->Head().value(), head);
  EXPECT_EQ(*store_->StreamVersion("s"), 0u);
  EXPECT_TRUE(code("patient:0001_a.b-c", {Event("ok")}) == absl::StatusCode::kOk);
}

TEST_F(EventStoreTest, ReadsStreamsAndTheGlobalLogBothWaysWithFilters) {
  for (int i = 0; i < 10; ++i) {
    std::string stream = i % 2 == 0 ? "patient-even" : "audit-odd";
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::Any(),
                               {Event(absl::StrCat("e", i), i % 3 == 0 ? "test.Three" : "test.Other")})
                    .ok());
  }
  auto forwards = store_->ReadStream({.stream_id = "patient-even", .from_version = 1, .limit = 2});
  ASSERT_TRUE(forwards.ok());
  ASSERT_EQ(forwards->size(), 2u);
  EXPECT_EQ((*forwards)[0].version, 1u);
  EXPECT_EQ((*forwards)[0].position, 2u);
  auto backwards = store_->ReadStream({.stream_id = "patient-even", .backwards = true, .limit = 10});
  ASSERT_TRUE(backwards.ok());
  ASSERT_EQ(backwards->size(), 5u);
  EXPECT_EQ((*backwards)[0].version, 4u);
  EXPECT_EQ((*backwards)[4].version, 0u);
  EXPECT_TRUE(store_->ReadStream({.stream_id = "patient-eve"})->empty());  // a prefix is not a stream

  auto prefixed = store_->ReadAll({.stream_prefix = "audit-"});
  ASSERT_TRUE(prefixed.ok());
  ASSERT_EQ(prefixed->events.size(), 5u);
  EXPECT_FALSE(prefixed->next_position.has_value());
  auto typed = store_->ReadAll({.event_types = {"test.Three"}});
  ASSERT_EQ(typed->events.size(), 4u);  // 0, 3, 6, 9
  EXPECT_EQ(typed->events[3].position, 9u);

  auto back = store_->ReadAll({.from_position = 5, .backwards = true, .limit = 3});
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->events.size(), 3u);
  EXPECT_EQ(back->events[0].position, 5u);
  EXPECT_EQ(back->next_position, std::optional<uint64_t>(2));
  auto tail = store_->ReadAll({.backwards = true, .limit = 1});
  EXPECT_EQ(tail->events[0].position, 9u);

  auto bounded = store_->ReadAll({.limit = 100, .event_types = {"test.Three"}, .max_scan = 4});
  ASSERT_EQ(bounded->events.size(), 2u);  // 0 and 3 among the first four examined
  EXPECT_EQ(bounded->next_position, std::optional<uint64_t>(4));
}

TEST_F(EventStoreTest, ReadsStreamVersionsAcrossAndInsideMultiEventAppends) {
  int n = 0;
  for (int size : {3, 1, 4}) {
    std::vector<ProposedEvent> batch;
    for (int i = 0; i < size; ++i) batch.push_back(Event(absl::StrCat("r", n++)));
    ASSERT_TRUE(store_->Append("runs", ExpectedVersion::Any(), std::move(batch)).ok());
    ASSERT_TRUE(store_->Append("other", ExpectedVersion::Any(), {Event(absl::StrCat("o", n))}).ok());
  }
  auto versions = [&](ReadStreamRequest request) {
    std::vector<uint64_t> out;
    request.stream_id = "runs";
    auto events = store_->ReadStream(request);
    EXPECT_TRUE(events.ok()) << events.status();
    for (const auto& e : *events) {
      EXPECT_EQ(e.event_id, absl::StrCat("r", e.version));
      out.push_back(e.version);
    }
    return out;
  };
  EXPECT_EQ(versions({.from_version = 2, .limit = 4}), (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(versions({.from_version = 5, .backwards = true, .limit = 4}), (std::vector<uint64_t>{5, 4, 3, 2}));
  EXPECT_EQ(versions({.backwards = true, .limit = 2}), (std::vector<uint64_t>{7, 6}));
  EXPECT_EQ(versions({.from_version = 1, .backwards = true}), (std::vector<uint64_t>{1, 0}));
  EXPECT_EQ(versions({.from_version = 6}), (std::vector<uint64_t>{6, 7}));
  EXPECT_TRUE(versions({.from_version = 8}).empty());
  EXPECT_EQ(versions({.from_version = 100, .backwards = true, .limit = 1}), (std::vector<uint64_t>{7}));
  EXPECT_EQ(*store_->StreamVersion("runs"), 7u);
  Reopen();  // the version comes from the stream index, not the writer's cache
  EXPECT_EQ(*store_->StreamVersion("runs"), 7u);
  auto next = store_->Append("runs", ExpectedVersion::Exact(7), {Event("r8")});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->first_version, 8u);
}

TEST_F(EventStoreTest, ConcurrentAppendsLoseAndDuplicateNothing) {
  constexpr int kThreads = 16;
  constexpr int kAppends = 150;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        // Half the threads share one stream; the others write their own.
        std::string stream = t % 2 == 0 ? "shared" : absl::StrCat("own-", t);
        std::vector<ProposedEvent> batch;
        for (int k = 0; k <= i % 3; ++k) batch.push_back(Event(absl::StrCat("t", t, "-", i, "-", k)));
        if (!store_->Append(stream, ExpectedVersion::Any(), std::move(batch)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  std::vector<RecordedEvent> all = ReadAllEvents();
  std::set<std::string> ids;
  std::map<std::string, uint64_t> next_version;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, i);
    EXPECT_TRUE(ids.insert(all[i].event_id).second) << all[i].event_id;
    EXPECT_EQ(all[i].version, next_version[all[i].stream_id]++) << all[i].stream_id;
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kAppends * 2));  // 1+2+3 per three appends
  auto verify = store_->Verify(std::nullopt);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
  EXPECT_EQ(verify->events_verified, all.size());
}

// A resend that arrives while the original is still being written (decided into the next
// group, or the same one) replays it: same positions, nothing written twice.
TEST_F(EventStoreTest, ResendsRacingTheirOriginalReplayIt) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 300;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0}, replays{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        const std::string stream = absl::StrCat("s-", t);
        auto batch = [&] {
          return std::vector<ProposedEvent>{Event(absl::StrCat(t, "-", i, "-a")), Event(absl::StrCat(t, "-", i, "-b"))};
        };
        absl::Notification original_done;
        absl::StatusOr<AppendResult> original;
        store_->AppendAsync(stream, ExpectedVersion::Any(), batch(), [&](absl::StatusOr<AppendResult> r) {
          original = std::move(r);
          original_done.Notify();
        });
        absl::StatusOr<AppendResult> resent = store_->Append(stream, ExpectedVersion::Any(), batch());
        original_done.WaitForNotification();
        if (!original.ok() || !resent.ok() || original->first_position != resent->first_position ||
            original->last_version != resent->last_version || original->idempotent_replay ||
            !resent->idempotent_replay) {
          ++mismatches;
        }
        if (resent.ok() && resent->idempotent_replay) ++replays;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(replays.load(), kThreads * kAppends);
  std::vector<RecordedEvent> all = ReadAllEvents();
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kAppends * 2));
  std::set<std::string> ids;
  for (const RecordedEvent& event : all) EXPECT_TRUE(ids.insert(event.event_id).second) << event.event_id;
  auto verify = store_->Verify(std::nullopt);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_F(EventStoreTest, OptimisticWritersRetryingOnConflictEachLandExactlyOnce) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 40;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        for (;;) {
          absl::StatusOr<uint64_t> version = store_->StreamVersion("counter");
          ExpectedVersion expected = version.ok() ? ExpectedVersion::Exact(*version) : ExpectedVersion::NoStream();
          auto r = store_->Append("counter", expected, {Event(absl::StrCat(t, "-", i))});
          if (r.ok()) break;
          ASSERT_TRUE(AppendConflict(r.status()).has_value()) << r.status();
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*store_->StreamVersion("counter"), static_cast<uint64_t>(kThreads * kAppends - 1));
  EXPECT_EQ(store_->Head().value().position, std::optional<uint64_t>(kThreads * kAppends - 1));
}

TEST_F(EventStoreTest, ReopeningResumesTheChain) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), {Event("a"), Event("b")}).ok());
  LogHead head = store_->Head().value();
  Reopen();
  EXPECT_EQ(store_->Head().value(), head);
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Exact(1), {Event("c")}).ok());
  auto full = store_->Verify(std::nullopt);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->ok) << full->problem;
  EXPECT_EQ(full->events_verified, 3u);
  auto from_head = store_->Verify(head);
  ASSERT_TRUE(from_head.ok());
  EXPECT_TRUE(from_head->ok) << from_head->problem;
  EXPECT_EQ(from_head->events_verified, 1u);
  EXPECT_EQ(from_head->head, store_->Head().value());
  LogHead forged = head;
  forged.hash[0] ^= 1;
  auto bad = store_->Verify(forged);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->first_bad_position, head.position);
}

TEST_F(EventStoreTest, IndexKeysFindEventsBothWaysAndSurviveReopen) {
  auto indexed = [](std::string id, std::vector<std::string> keys) {
    ProposedEvent e = Event(std::move(id));
    e.index_keys = std::move(keys);
    return e;
  };
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), {indexed("a", {"k:1", "k:2"})}).ok());
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), {indexed("b", {"k:2"}), indexed("c", {})}).ok());
  ASSERT_TRUE(store_->Append("t", ExpectedVersion::Any(), {indexed("d", {"k:1", "k:10"})}).ok());
  auto positions = [&](const ReadIndexRequest& request) {
    std::vector<uint64_t> out;
    absl::StatusOr<ReadAllResult> r = store_->ReadIndex(request);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      for (const RecordedEvent& e : r->events) out.push_back(e.position);
    }
    return out;
  };
  EXPECT_EQ(positions({.index_key = "k:1"}), (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(positions({.index_key = "k:2"}), (std::vector<uint64_t>{0, 1}));
  // "k:1" is a prefix of "k:10" but not the same key.
  EXPECT_EQ(positions({.index_key = "k:10"}), (std::vector<uint64_t>{3}));
  EXPECT_EQ(positions({.index_key = "k:3"}), (std::vector<uint64_t>{}));
  EXPECT_EQ(positions({.index_key = "k:1", .backwards = true}), (std::vector<uint64_t>{3, 0}));
  EXPECT_EQ(positions({.index_key = "k:1", .from_position = 1}), (std::vector<uint64_t>{3}));
  EXPECT_EQ(positions({.index_key = "k:1", .from_position = 2, .backwards = true}), (std::vector<uint64_t>{0}));
  absl::StatusOr<ReadAllResult> page = store_->ReadIndex({.index_key = "k:1", .limit = 1});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].event_id, "a");
  EXPECT_EQ(page->next_position, std::optional<uint64_t>(1));
  // Keys are not part of the record: the chain verifies, and a replay ignores them.
  absl::StatusOr<VerifyResult> verify = store_->Verify(std::nullopt);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok);
  absl::StatusOr<AppendResult> replay = store_->Append("s", ExpectedVersion::Any(), {indexed("a", {"other"})});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay);
  EXPECT_TRUE(positions({.index_key = "other"}).empty());
  // Malformed keys are refused before anything is written.
  EXPECT_EQ(store_->Append("s", ExpectedVersion::Any(), {indexed("e", {"has space"})}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Append("s", ExpectedVersion::Any(), {indexed("e", {""})}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReadIndex({.index_key = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  Reopen();
  EXPECT_EQ(positions({.index_key = "k:1"}), (std::vector<uint64_t>{0, 3}));
  store_.reset();
  absl::StatusOr<std::unique_ptr<EventStore>> read_only = EventStore::Open({.path = dir_.path(), .read_only = true});
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  absl::StatusOr<ReadAllResult> r = (*read_only)->ReadIndex({.index_key = "k:2"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events.size(), 2u);
}

TEST_F(EventStoreTest, ReadOnlyOpenReadsButRefusesAppends) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), {Event("a")}).ok());
  store_.reset();
  auto ro = EventStore::Open({.path = dir_.path(), .read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ((*ro)->Head().value().position, std::optional<uint64_t>(0));
  EXPECT_EQ((*ro)->Append("s", ExpectedVersion::Any(), {Event("b")}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(EventStore::Open({.path = dir_.path() + "-missing", .read_only = true}).status().code(),
            absl::StatusCode::kNotFound);
}

// Subscribes from 0 while a writer appends; checks that the subscriber sees every position
// exactly once, in order, across the switch from disk to memory.
void CheckCatchUpThenLive(EventStore* store, int total, int already) {
  absl::Notification go;
  std::thread writer([&] {
    go.WaitForNotification();
    for (int i = already; i < total; i += 3) {
      std::vector<ProposedEvent> batch;
      for (int k = i; k < std::min(i + 3, total); ++k) batch.push_back(Event(absl::StrCat("live-", k)));
      ASSERT_TRUE(store->Append(absl::StrCat("s-", i % 7), ExpectedVersion::Any(), std::move(batch)).ok());
    }
  });
  std::unique_ptr<Subscription> sub = store->Subscribe({.from_position = 0, .max_batch = 50});
  std::vector<uint64_t> seen;
  bool started = already == 0;
  if (started) go.Notify();
  while (seen.size() < static_cast<size_t>(total)) {
    auto batch = sub->Next(absl::Seconds(30));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_FALSE(batch->events.empty()) << "no event within 30 s at " << seen.size();
    for (const auto& e : batch->events) seen.push_back(e.position);
    if (!started) {
      go.Notify();  // start appending while the subscriber is still catching up
      started = true;
    }
  }
  writer.join();
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i);
  auto rest = sub->Poll();
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->events.empty());
  EXPECT_TRUE(rest->caught_up);
}

TEST_F(EventStoreTest, SubscriptionSwitchesFromCatchUpToLiveWithoutGapOrDuplicate) {
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(store_->Append("old", ExpectedVersion::Any(), {Event(absl::StrCat("old-", i))}).ok());
  Reopen();  // the in-memory ring starts empty, so catch-up reads from disk
  CheckCatchUpThenLive(store_.get(), 3000, 500);
}

TEST_F(EventStoreTest, SlowSubscriberFallsBackToDiskWhenTheRingMovesOn) {
  Reopen(/*recent_capacity=*/8);
  CheckCatchUpThenLive(store_.get(), 2000, 0);
}

TEST_F(EventStoreTest, FilteredSubscriptionReportsCheckpointsAndWakesOnCommit) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->Append("other", ExpectedVersion::Any(), {Event(absl::StrCat("o", i))}).ok());
  std::unique_ptr<Subscription> sub = store_->Subscribe({.from_position = 0, .stream_prefix = "patient-"});
  auto empty = sub->Poll();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->events.empty());
  EXPECT_EQ(empty->checkpoint, 20u);
  EXPECT_TRUE(empty->caught_up);

  absl::Notification ready;
  sub->NotifyWhenReady([&] { ready.Notify(); });
  EXPECT_FALSE(ready.HasBeenNotified());
  ASSERT_TRUE(store_->Append("patient-1", ExpectedVersion::Any(), {Event("p1")}).ok());
  EXPECT_TRUE(ready.HasBeenNotified());  // run by the writer before Append returned
  auto batch = sub->Poll();
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].event_id, "p1");
  EXPECT_EQ(batch->checkpoint, 21u);
}

TEST_F(EventStoreTest, CancelEndsABlockedNextAndFiresTheNotification) {
  std::unique_ptr<Subscription> sub = store_->Subscribe({});
  absl::Notification fired;
  sub->NotifyWhenReady([&] { fired.Notify(); });
  std::thread waiter([&] {
    auto r = sub->Next(absl::Hours(1));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  });
  sub->Cancel();
  waiter.join();
  EXPECT_TRUE(fired.HasBeenNotified());
  EXPECT_EQ(sub->Poll().status().code(), absl::StatusCode::kCancelled);
}

TEST(EventStoreLimitsTest, ReadsStopAtTheByteBoundButAlwaysReturnOneEvent) {
  TempDir dir;
  Options options{.path = dir.path()};
  options.limits.max_read_bytes = 1000;
  auto store = EventStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*store)->Append("s", ExpectedVersion::Any(), {Event(absl::StrCat("e", i), "t", std::string(300, 'x'))}).ok());
  }
  // 301 bytes an event (data + metadata): the fourth passes 1000.
  auto all = (*store)->ReadAll({.limit = 100});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->events.size(), 4u);
  EXPECT_EQ(all->next_position, std::optional<uint64_t>(4));
  EXPECT_EQ((*store)->ReadAll({.backwards = true, .limit = 100})->events.size(), 4u);
  EXPECT_EQ((*store)->ReadStream({.stream_id = "s", .limit = 100})->size(), 4u);
  auto sub = (*store)->Subscribe({.max_batch = 100});
  EXPECT_EQ(sub->Poll()->events.size(), 4u);  // from the in-memory ring
  ASSERT_TRUE((*store)->Append("big", ExpectedVersion::Any(), {Event("big", "t", std::string(5000, 'y'))}).ok());
  EXPECT_EQ((*store)->ReadStream({.stream_id = "big"})->size(), 1u);
}

TEST_F(EventStoreTest, NextTimesOutWithAnEmptyBatchAtTheHead) {
  std::unique_ptr<Subscription> sub = store_->Subscribe({});
  auto r = sub->Next(absl::Milliseconds(20));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_TRUE(r->caught_up);
}

}  // namespace
}  // namespace carehub::eventstore
