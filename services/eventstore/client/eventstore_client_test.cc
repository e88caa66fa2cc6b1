// The client's unary methods against a real EventStoreService: each behaves as the in-process
// store does, with the same results and the same error codes, and AppendConflict() reads its
// conflicts.
#include "carehub/services/eventstore_client.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/eventstore/client/testing/client_fixture.h"

namespace carehub::services::testing {
namespace {

namespace es = ::carehub::eventstore;

using ActualVersion = std::optional<std::optional<uint64_t>>;

TEST_F(EventStoreClientTest, AppendThenReadGivesWhatTheStoreHolds) {
  absl::StatusOr<es::AppendResult> appended =
      client_->Append("patient-1", es::ExpectedVersion::NoStream(),
                      {Event("e1"), Event("e2"), Event("e3", "test.Other", "x")});
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(appended->first_position, 0u);
  EXPECT_EQ(appended->last_position, 2u);
  EXPECT_EQ(appended->first_version, 0u);
  EXPECT_EQ(appended->last_version, 2u);
  EXPECT_FALSE(appended->idempotent_replay);

  // Every field, hash and recorded-at included, survives the trip.
  absl::StatusOr<std::vector<es::RecordedEvent>> remote =
      client_->ReadStream({.stream_id = "patient-1"});
  absl::StatusOr<std::vector<es::RecordedEvent>> local =
      store_->ReadStream({.stream_id = "patient-1"});
  ASSERT_TRUE(remote.ok()) << remote.status();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*remote, *local);
  ASSERT_EQ(remote->size(), 3u);

  absl::StatusOr<std::vector<es::RecordedEvent>> backwards =
      client_->ReadStream({.stream_id = "patient-1", .from_version = 1, .backwards = true});
  ASSERT_TRUE(backwards.ok()) << backwards.status();
  ASSERT_EQ(backwards->size(), 2u);
  EXPECT_EQ((*backwards)[0].version, 1u);
  EXPECT_EQ((*backwards)[1].version, 0u);

  absl::StatusOr<uint64_t> version = client_->StreamVersion("patient-1");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2u);
  EXPECT_EQ(client_->StreamVersion("patient-2").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<es::RecordedEvent>> none =
      client_->ReadStream({.stream_id = "patient-2"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(EventStoreClientTest, ConflictIsReadByAppendConflict) {
  ASSERT_TRUE(
      client_->Append("patient-1", es::ExpectedVersion::NoStream(), {Event("a"), Event("b")}).ok());

  absl::StatusOr<es::AppendResult> again =
      client_->Append("patient-1", es::ExpectedVersion::NoStream(), {Event("c")});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(es::AppendConflict(again.status()), ActualVersion(1));

  absl::StatusOr<es::AppendResult> stale =
      client_->Append("patient-1", es::ExpectedVersion::Exact(0), {Event("c")});
  EXPECT_EQ(es::AppendConflict(stale.status()), ActualVersion(1));

  absl::StatusOr<es::AppendResult> missing =
      client_->Append("patient-9", es::ExpectedVersion::StreamExists(), {Event("d")});
  ASSERT_TRUE(es::AppendConflict(missing.status()).has_value()) << missing.status();
  EXPECT_FALSE(es::AppendConflict(missing.status())->has_value());

  // The same status, from the store itself, for comparison: code, message and payload agree.
  absl::StatusOr<es::AppendResult> local =
      store_->Append("patient-1", es::ExpectedVersion::Exact(0), {Event("c")});
  EXPECT_EQ(stale.status(), local.status());

  // Not a conflict: nothing to extract.
  absl::StatusOr<es::AppendResult> bad =
      client_->Append("-bad", es::ExpectedVersion::Any(), {Event("e")});
  EXPECT_FALSE(es::AppendConflict(bad.status()).has_value());

  absl::StatusOr<es::AppendResult> right =
      client_->Append("patient-1", es::ExpectedVersion::Exact(1), {Event("c")});
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ(right->first_version, 2u);
}

// What AppendAsync hands its callback, waited for.
absl::StatusOr<es::AppendResult> AppendAndWait(es::EventStore& store, std::string_view stream_id,
                                               es::ExpectedVersion expected,
                                               std::vector<es::ProposedEvent> events) {
  absl::Notification done;
  absl::StatusOr<es::AppendResult> result;
  store.AppendAsync(stream_id, expected, std::move(events),
                    [&](absl::StatusOr<es::AppendResult> r) {
                      result = std::move(r);
                      done.Notify();
                    });
  done.WaitForNotification();
  return result;
}

TEST_F(EventStoreClientTest, AppendAsyncGivesWhatAppendGives) {
  absl::StatusOr<es::AppendResult> first = AppendAndWait(
      *client_, "patient-1", es::ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->first_version, 0u);
  EXPECT_EQ(first->last_version, 1u);
  EXPECT_FALSE(first->idempotent_replay);

  // A conflict carries the actual version, as from the store itself.
  absl::StatusOr<es::AppendResult> stale =
      AppendAndWait(*client_, "patient-1", es::ExpectedVersion::Exact(0), {Event("c")});
  EXPECT_EQ(es::AppendConflict(stale.status()), ActualVersion(1));
  EXPECT_EQ(stale.status(),
            store_->Append("patient-1", es::ExpectedVersion::Exact(0), {Event("c")}).status());

  // A replay returns the original result.
  absl::StatusOr<es::AppendResult> again = AppendAndWait(
      *client_, "patient-1", es::ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->idempotent_replay);
  EXPECT_EQ(again->first_position, first->first_position);

  // And the server's stopping is Unavailable, not a hang.
  ClientOptions impatient = TestOptions();
  impatient.connect_timeout = absl::Milliseconds(300);
  std::unique_ptr<es::EventStore> waiting = Connect(impatient);
  ASSERT_NE(waiting, nullptr);
  StopServer();
  EXPECT_EQ(AppendAndWait(*waiting, "patient-1", es::ExpectedVersion::Any(), {Event("d")})
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(EventStoreClientTest, ReplayedBatchReturnsTheOriginalResult) {
  absl::StatusOr<es::AppendResult> first =
      client_->Append("patient-1", es::ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(first.ok()) << first.status();
  // A retry after a lost response: the expected version no longer holds, but nothing is written.
  absl::StatusOr<es::AppendResult> replay =
      client_->Append("patient-1", es::ExpectedVersion::NoStream(), {Event("a"), Event("b")});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay);
  EXPECT_EQ(replay->first_position, first->first_position);
  EXPECT_EQ(replay->last_version, first->last_version);
  EXPECT_EQ(store_->Head().value().position, std::optional<uint64_t>(1));

  absl::StatusOr<es::AppendResult> mixed =
      client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("b"), Event("c")});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<es::AppendResult> other_content = client_->Append(
      "patient-1", es::ExpectedVersion::Any(), {Event("a", "test.NoteAdded", "other")});
  EXPECT_EQ(other_content.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(EventStoreClientTest, MalformedInputIsInvalidArgument) {
  auto code = [](const auto& result) { return result.status().code(); };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code(client_->Append("-bad", es::ExpectedVersion::Any(), {Event("e")})), kInvalid);
  EXPECT_EQ(code(client_->Append("", es::ExpectedVersion::Any(), {Event("e")})), kInvalid);
  EXPECT_EQ(code(client_->Append("patient-1", es::ExpectedVersion::Any(), {})), kInvalid);
  EXPECT_EQ(code(client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("")})), kInvalid);
  EXPECT_EQ(
      code(client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("e", "bad type!")})),
      kInvalid);
  EXPECT_EQ(code(client_->ReadStream({.stream_id = "no spaces"})), kInvalid);
  EXPECT_EQ(code(client_->StreamVersion("")), kInvalid);
  EXPECT_FALSE(store_->Head().value().position.has_value());  // nothing was written
  ASSERT_TRUE(client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("e")}).ok());
}

TEST_F(EventStoreClientTest, ReadAllFiltersAndContinues) {
  ASSERT_TRUE(
      client_
          ->Append("patient-1", es::ExpectedVersion::Any(), {Event("a"), Event("b", "test.Other")})
          .ok());
  ASSERT_TRUE(client_->Append("patient-2", es::ExpectedVersion::Any(), {Event("c")}).ok());
  ASSERT_TRUE(client_->Append("identity-1", es::ExpectedVersion::Any(), {Event("d")}).ok());

  es::ReadAllRequest request;
  request.limit = 2;
  absl::StatusOr<es::ReadAllResult> page = client_->ReadAll(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->next_position, std::optional<uint64_t>(2));
  request.from_position = page->next_position;
  page = client_->ReadAll(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[1].position, 3u);

  es::ReadAllRequest filtered;
  filtered.stream_prefix = "patient-";
  filtered.event_types = {"test.NoteAdded"};
  absl::StatusOr<es::ReadAllResult> matching = client_->ReadAll(filtered);
  absl::StatusOr<es::ReadAllResult> local = store_->ReadAll(filtered);
  ASSERT_TRUE(matching.ok()) << matching.status();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(matching->events, local->events);
  EXPECT_EQ(matching->next_position, local->next_position);
  ASSERT_EQ(matching->events.size(), 2u);

  es::ReadAllRequest backwards;
  backwards.backwards = true;
  absl::StatusOr<es::ReadAllResult> reversed = client_->ReadAll(backwards);
  ASSERT_TRUE(reversed.ok()) << reversed.status();
  ASSERT_EQ(reversed->events.size(), 4u);
  EXPECT_EQ(reversed->events.front().position, 3u);
}

TEST_F(EventStoreClientTest, HeadAndVerifyMatchTheStore) {
  EXPECT_EQ(client_->Head().value(), es::LogHead());
  ASSERT_TRUE(
      client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("a"), Event("b")}).ok());
  const es::LogHead early = client_->Head().value();
  EXPECT_EQ(early, store_->Head().value());
  EXPECT_EQ(early.position, std::optional<uint64_t>(1));
  ASSERT_TRUE(client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("c")}).ok());

  absl::StatusOr<es::VerifyResult> all = client_->Verify(std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->ok) << all->problem;
  EXPECT_EQ(all->events_verified, 3u);
  EXPECT_EQ(all->head, store_->Head().value());

  absl::StatusOr<es::VerifyResult> since = client_->Verify(early);
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_TRUE(since->ok) << since->problem;
  EXPECT_EQ(since->events_verified, 1u);

  // A head the log does not reach: a finding, not an error.
  es::LogHead beyond = early;
  beyond.position = 99;
  absl::StatusOr<es::VerifyResult> lost = client_->Verify(beyond);
  absl::StatusOr<es::VerifyResult> lost_local = store_->Verify(beyond);
  ASSERT_TRUE(lost.ok()) << lost.status();
  ASSERT_TRUE(lost_local.ok()) << lost_local.status();
  EXPECT_FALSE(lost->ok);
  EXPECT_EQ(lost->problem, lost_local->problem);
  EXPECT_EQ(lost->first_bad_position, lost_local->first_bad_position);
}

TEST_F(EventStoreClientTest, ReadStreamPagesThroughSmallServerResponses) {
  StopServer();
  EventStoreServiceOptions small;
  small.max_response_bytes = 1000;  // a handful of events per response
  ASSERT_NO_FATAL_FAILURE(StartServer(small));
  std::vector<es::ProposedEvent> events;
  for (int i = 0; i < 40; ++i)
    events.push_back(Event(absl::StrCat("e", i), "test.NoteAdded", std::string(200, 'x')));
  ASSERT_TRUE(client_->Append("patient-1", es::ExpectedVersion::NoStream(), events).ok());

  absl::StatusOr<std::vector<es::RecordedEvent>> all =
      client_->ReadStream({.stream_id = "patient-1", .limit = 40});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 40u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].version, i);

  absl::StatusOr<std::vector<es::RecordedEvent>> some =
      client_->ReadStream({.stream_id = "patient-1", .limit = 25});
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(some->size(), 25u);
  absl::StatusOr<uint64_t> version = client_->StreamVersion("patient-1");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 39u);
}

TEST_F(EventStoreClientTest, StoppedServerIsUnavailable) {
  ASSERT_TRUE(client_->Append("patient-1", es::ExpectedVersion::Any(), {Event("a")}).ok());
  ClientOptions patient = TestOptions();
  patient.connect_timeout = absl::Milliseconds(300);
  std::unique_ptr<es::EventStore> waiting = Connect(patient);
  ASSERT_NE(waiting, nullptr);
  StopServer();

  // With wait_for_ready: Unavailable once connect_timeout has passed without a connection.
  absl::StatusOr<es::AppendResult> append =
      waiting->Append("patient-1", es::ExpectedVersion::Any(), {Event("b")});
  EXPECT_EQ(append.status().code(), absl::StatusCode::kUnavailable) << append.status();
  EXPECT_EQ(waiting->ReadStream({.stream_id = "patient-1"}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(waiting->Verify(std::nullopt).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(waiting->Head().status().code(), absl::StatusCode::kUnavailable);

  // Without it: Unavailable at once.
  ClientOptions fail_fast = patient;
  fail_fast.wait_for_ready = false;
  fail_fast.connect_eagerly = false;
  std::unique_ptr<es::EventStore> impatient = Connect(fail_fast);
  ASSERT_NE(impatient, nullptr);
  EXPECT_EQ(impatient->StreamVersion("patient-1").status().code(), absl::StatusCode::kUnavailable);

  EXPECT_EQ(ConnectEventStore(Target(), patient).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ConnectEventStore("", patient).status().code(), absl::StatusCode::kInvalidArgument);

  // The same client carries on once the server is back on its address.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<es::AppendResult> after =
      client_->Append("patient-1", es::ExpectedVersion::Exact(0), {Event("b")});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->last_version, 1u);
}

}  // namespace
}  // namespace carehub::services::testing
