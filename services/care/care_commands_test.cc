#include "carehub/care/care_commands.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "carehub/care/hub_key.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/testing/temp_dir.h"
#include "eventstore/testing/forwarding_store.h"
#include "gtest/gtest.h"
#include "services/care/internal/decide.h"

namespace carehub::care {
namespace {

using internal::ToProtoTime;
namespace es = ::carehub::eventstore;

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);  // 2026-11-18 12:06:40 local
// Skatteverket's well-known test personnummer (Tolvan Tolvansson) and the samordningsnummer of the
// same date; a number in the test series (serial 98x) for a second person.
constexpr char kTolvan[] = "19121212-1212";
constexpr char kTolvanSamordning[] = "191212721219";
constexpr char kOther[] = "19121212-9801";

v1::PatientIdentifier Personnummer(const std::string& value) {
  v1::PatientIdentifier id;
  id.set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  id.set_value(value);
  return id;
}

// Forwards to a real store, but holds asynchronous appends while held, so that a test can have
// several commands decided against the same version before any of them lands.
class GatedStore final : public es::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  // Lets the held appends through, in order, and those that follow.
  void Release() {
    std::vector<std::function<void()>> held;
    {
      absl::MutexLock lock(&mu_);
      held_ = false;
      held.swap(pending_);
    }
    for (std::function<void()>& append : held) append();
  }
  size_t pending() {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }
  // Runs `hook` with the stream of every stream read (nullptr: none).
  void OnRead(std::function<void(const std::string&)> hook) {
    absl::MutexLock lock(&mu_);
    on_read_ = std::move(hook);
  }
  // The next `n` stream reads fail as if the store were unreachable.
  void FailReads(int n) {
    absl::MutexLock lock(&mu_);
    failing_reads_ = n;
  }

  void AppendAsync(std::string_view stream_id, es::ExpectedVersion expected,
                   std::vector<es::ProposedEvent> events, AppendCallback done) override {
    auto append = [this, stream = std::string(stream_id), expected,
                   events = std::move(events), done = std::move(done)]() mutable {
      inner()->AppendAsync(stream, expected, std::move(events), std::move(done));
    };
    {
      absl::MutexLock lock(&mu_);
      if (held_) {
        pending_.push_back(std::move(append));
        return;
      }
    }
    append();
  }
  absl::StatusOr<std::vector<es::RecordedEvent>> ReadStream(
      const es::ReadStreamRequest& request) override {
    std::function<void(const std::string&)> hook;
    {
      absl::MutexLock lock(&mu_);
      if (failing_reads_ > 0) {
        --failing_reads_;
        return absl::UnavailableError("the store is unreachable (test)");
      }
      hook = on_read_;
    }
    if (hook) hook(request.stream_id);
    return ForwardingStore::ReadStream(request);
  }
 private:
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> pending_ ABSL_GUARDED_BY(mu_);
  int failing_reads_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(const std::string&)> on_read_ ABSL_GUARDED_BY(mu_);
};

class CareCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<es::EventStore>> store =
        es::EventStore::Open({.path = dir_.File("log"), .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    absl::StatusOr<std::string> key = LoadOrCreateHubKey(dir_.File("hub.key"));
    ASSERT_TRUE(key.ok()) << key.status();
    ids_ = NewBitGenPatientIdGenerator(gen_);
    absl::StatusOr<std::unique_ptr<CareCommands>> care = CareCommands::Create(
        store_.get(), {.clock = &clock_, .ids = ids_.get(), .hub_key = *key});
    ASSERT_TRUE(care.ok()) << care.status();
    care_ = *std::move(care);
  }

  v1::CommandRequest Command(const std::string& id, const v1::PatientIdentifier& patient) {
    v1::CommandRequest command;
    command.set_command_id(id);
    *command.mutable_patient()->mutable_identifier() = patient;
    command.mutable_source()->set_system("cosmic-test");
    command.mutable_data_owner()->set_kind(v1::DATA_OWNER_KIND_REGION);
    *command.mutable_occurred_at() = ToProtoTime(clock_.Now());
    return command;
  }

  v1::CommandRequest Admit(const std::string& id, const v1::PatientIdentifier& patient) {
    v1::CommandRequest command = Command(id, patient);
    command.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("V-" + id);
    return command;
  }

  std::vector<es::RecordedEvent> All() {
    absl::StatusOr<es::ReadAllResult> all = store_->ReadAll({});
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? all->events : std::vector<es::RecordedEvent>{};
  }

  services::testing::TempDir dir_;
  ManualClock clock_{kT0};
  std::mt19937_64 gen_{42};
  std::unique_ptr<es::EventStore> store_;
  std::unique_ptr<PatientIdGenerator> ids_;
  std::unique_ptr<CareCommands> care_;
};

TEST_F(CareCommandsTest, NewIdentifierCreatesOnePatientAndNoIdentifierInStreamIds) {
  absl::StatusOr<v1::CommandResponse> admitted = care_->Execute(Admit("m1", Personnummer(kTolvan)));
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_TRUE(admitted->patient_created());
  EXPECT_TRUE(IsPatientId(admitted->patient_id()));
  EXPECT_EQ(admitted->stream_id(), "patient-" + admitted->patient_id());
  // The 10-digit form (with '+': over 100 years old) resolves to the same patient; with '-' it
  // would be someone born in 2012.
  v1::ResolvePatientRequest resolve;
  *resolve.mutable_identifier() = Personnummer("121212+1212");
  absl::StatusOr<v1::ResolvePatientResponse> resolved = care_->ResolvePatient(resolve);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->patient_id(), admitted->patient_id());
  EXPECT_FALSE(resolved->created());
  *resolve.mutable_identifier() = Personnummer("121212-1212");
  EXPECT_EQ(care_->ResolvePatient(resolve).status().code(), absl::StatusCode::kNotFound);
  for (const es::RecordedEvent& event : All()) {
    EXPECT_EQ(event.stream_id.find("121212"), std::string::npos) << event.stream_id;
  }
}

TEST_F(CareCommandsTest, IdentityRaceYieldsOnePatient) {
  constexpr int kThreads = 8;
  absl::Barrier barrier(kThreads);
  std::vector<std::string> ids(kThreads);
  std::vector<bool> created(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      v1::ResolvePatientRequest request;
      *request.mutable_identifier() = Personnummer(kOther);
      request.set_create_if_missing(true);
      barrier.Block();
      absl::StatusOr<v1::ResolvePatientResponse> response = care_->ResolvePatient(request);
      ASSERT_TRUE(response.ok()) << response.status();
      ids[i] = response->patient_id();
      created[i] = response->created();
    });
  }
  for (std::thread& thread : threads) thread.join();
  int creators = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(ids[i], ids[0]);
    creators += created[i];
  }
  EXPECT_EQ(creators, 1);
}

TEST_F(CareCommandsTest, ConcurrentCommandsOnOnePatientAllLandAfterConflicts) {
  v1::CommandRequest enrol = Command("e1", Personnummer(kTolvan));
  enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_AT_RISK);
  ASSERT_TRUE(care_->Execute(enrol).ok());
  constexpr int kThreads = 6;
  absl::Barrier barrier(kThreads);
  std::vector<uint64_t> versions(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      v1::CommandRequest goal = Command(absl::StrCat("g", i), Personnummer(kTolvan));
      goal.mutable_goal_set()->set_goal_id(absl::StrCat("goal-", i));
      barrier.Block();
      absl::StatusOr<v1::CommandResponse> response = care_->Execute(goal);
      ASSERT_TRUE(response.ok()) << response.status();
      versions[i] = response->first_version();
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::sort(versions.begin(), versions.end());
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(versions[i], versions[0] + i);
}

// The asynchronous path over a store whose appends the test holds back.
class CareCommandsAsyncTest : public CareCommandsTest {
 protected:
  void SetUp() override {
    CareCommandsTest::SetUp();
    gated_ = std::make_unique<GatedStore>(store_.get());
    absl::StatusOr<std::string> key = LoadOrCreateHubKey(dir_.File("hub.key"));
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<std::unique_ptr<CareCommands>> care = CareCommands::Create(
        gated_.get(), {.clock = &clock_, .ids = ids_.get(), .hub_key = *key});
    ASSERT_TRUE(care.ok()) << care.status();
    care_ = *std::move(care);
    v1::CommandRequest enrol = Command("e1", Personnummer(kTolvan));
    enrol.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_AT_RISK);
    ASSERT_TRUE(care_->Execute(enrol).ok());
  }

  // Starts `n` goal commands for Tolvan, all decided against the same version while the gate
  // holds their appends, then lets them through; returns each command's result.
  std::vector<absl::StatusOr<v1::CommandResponse>> RaceGoals(int n,
                                                              CareCommands::Scheduler reschedule) {
    absl::Mutex mu;
    std::vector<absl::StatusOr<v1::CommandResponse>> results;
    absl::BlockingCounter finished(n);
    gated_->Hold();
    for (int i = 0; i < n; ++i) {
      v1::CommandRequest goal = Command(absl::StrCat("g", i), Personnummer(kTolvan));
      goal.mutable_goal_set()->set_goal_id(absl::StrCat("goal-", i));
      care_->ExecuteAsync(goal, reschedule, [&](absl::StatusOr<v1::CommandResponse> result) {
        {
          absl::MutexLock lock(&mu);
          results.push_back(std::move(result));
        }
        finished.DecrementCount();
      });
    }
    EXPECT_EQ(gated_->pending(), static_cast<size_t>(n));
    gated_->Release();
    finished.Wait();
    return results;
  }

  std::unique_ptr<GatedStore> gated_;
};

// A deadline check that fails while catching up (the store unreachable) loses no patient: the
// next check still finds the overdue task and breaches it.
TEST_F(CareCommandsAsyncTest, AFailedDeadlineCheckLosesNoPatient) {
  ASSERT_TRUE(care_->Execute(Admit("m1", Personnummer(kTolvan))).ok());
  v1::CommandRequest assessed = Command("m2", Personnummer(kTolvan));
  assessed.mutable_post_discharge_needs_assessed();
  ASSERT_TRUE(care_->Execute(assessed).ok());

  gated_->FailReads(1);
  EXPECT_EQ(care_->CheckDeadlines(kT0 + absl::Hours(25)).status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<v1::CheckDeadlinesResponse> retried = care_->CheckDeadlines(kT0 + absl::Hours(25));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->event_ids_size(), 1);
}

// A shutdown during a deadline catch-up ends it at its next step instead of after every patient;
// the next process's first check does what was left.
TEST_F(CareCommandsAsyncTest, StoppingDeadlineChecksEndsACatchUpAtItsNextStep) {
  for (const char* person : {kTolvan, kOther}) {
    ASSERT_TRUE(care_->Execute(Admit(absl::StrCat("a-", person), Personnummer(person))).ok());
    v1::CommandRequest assessed = Command(absl::StrCat("n-", person), Personnummer(person));
    assessed.mutable_post_discharge_needs_assessed();
    ASSERT_TRUE(care_->Execute(assessed).ok());
  }
  std::set<std::string> folded;
  gated_->OnRead([&](const std::string& stream) {
    folded.insert(stream);
    care_->StopDeadlineChecks();  // SIGTERM arrives while the first patient is folded
  });
  EXPECT_EQ(care_->CheckDeadlines(kT0 + absl::Hours(25)).status().code(), absl::StatusCode::kCancelled);
  gated_->OnRead(nullptr);
  EXPECT_EQ(folded.size(), 1u) << "the catch-up went on to another patient after the stop";
  EXPECT_EQ(care_->CheckDeadlines(kT0 + absl::Hours(25)).status().code(), absl::StatusCode::kCancelled);

  absl::StatusOr<std::unique_ptr<CareCommands>> restarted = CareCommands::Create(
      store_.get(), {.clock = &clock_, .ids = ids_.get(), .hub_key = *LoadOrCreateHubKey(dir_.File("hub.key"))});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  absl::StatusOr<v1::CheckDeadlinesResponse> checked = (*restarted)->CheckDeadlines(kT0 + absl::Hours(25));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->event_ids_size(), 2);
}

TEST_F(CareCommandsAsyncTest, ConflictingCommandsAreDecidedAgainThroughTheScheduler) {
  constexpr int kCommands = 6;
  services::Executor executor(2);
  std::atomic<int> rescheduled = 0;
  const std::vector<absl::StatusOr<v1::CommandResponse>> results =
      RaceGoals(kCommands, [&](std::function<void()> task) {
        ++rescheduled;
        return executor.Schedule(std::move(task));
      });
  // All but the first conflict at least once.
  EXPECT_GE(rescheduled.load(), kCommands - 1);
  std::vector<uint64_t> versions;
  for (const absl::StatusOr<v1::CommandResponse>& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    versions.push_back(result->first_version());
  }
  std::sort(versions.begin(), versions.end());
  for (int i = 0; i < kCommands; ++i) EXPECT_EQ(versions[i], versions[0] + i);
}

TEST_F(CareCommandsAsyncTest, ConflictWithNoSchedulerLeftEndsUnavailableAndAppendsNothing) {
  const size_t before = All().size();
  const std::vector<absl::StatusOr<v1::CommandResponse>> results =
      RaceGoals(2, [](std::function<void()>) { return false; });  // shutting down
  ASSERT_EQ(results.size(), 2u);
  // One lands; the other cannot be decided again.
  EXPECT_EQ(absl::c_count_if(results, [](const auto& r) { return r.ok(); }), 1);
  EXPECT_EQ(absl::c_count_if(results,
                             [](const auto& r) { return absl::IsUnavailable(r.status()); }),
            1);
  EXPECT_EQ(All().size(), before + 1);
}

// A patient's next command decides on the state the previous one left in the cache, for the
// patient its identifier was resolved to before: no read of the log at all, and a resent command
// is answered from that state as well.
TEST_F(CareCommandsAsyncTest, ACachedStateDecidesWithoutReadingTheStream) {
  v1::ResolvePatientRequest resolve;
  *resolve.mutable_identifier() = Personnummer(kTolvan);
  absl::StatusOr<v1::ResolvePatientResponse> tolvan = care_->ResolvePatient(resolve);
  ASSERT_TRUE(tolvan.ok()) << tolvan.status();
  absl::StatusOr<uint64_t> enrolled = store_->StreamVersion("patient-" + tolvan->patient_id());
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  std::atomic<int> reads = 0;
  gated_->OnRead([&](const std::string&) { ++reads; });
  v1::CommandRequest goal = Command("g1", Personnummer(kTolvan));
  goal.mutable_goal_set()->set_goal_id("goal-1");
  absl::StatusOr<v1::CommandResponse> set = care_->Execute(goal);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->first_version(), *enrolled + 1);
  absl::StatusOr<v1::CommandResponse> again = care_->Execute(goal);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->first_position(), set->first_position());
  EXPECT_EQ(reads.load(), 0);
}

// Another writer of the same log (a second care service, the deadline check) leaves this one's
// cached state behind. Each kind of decision is still made on the stream's head: an append is
// caught by its expected version, a refusal and a resend are checked by reading.
TEST_F(CareCommandsAsyncTest, AStateLeftBehindByAnotherWriterIsCaughtUp) {
  absl::StatusOr<std::string> key = LoadOrCreateHubKey(dir_.File("hub.key"));
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<std::unique_ptr<CareCommands>> other = CareCommands::Create(
      store_.get(), {.clock = &clock_, .ids = ids_.get(), .hub_key = *key});
  ASSERT_TRUE(other.ok()) << other.status();

  // Admitted elsewhere: this service's state has no stay, yet the discharge is accepted.
  absl::StatusOr<v1::CommandResponse> admitted = (*other)->Execute(Admit("a1", Personnummer(kTolvan)));
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  v1::CommandRequest discharge = Command("d1", Personnummer(kTolvan));
  discharge.mutable_inpatient_discharged()->mutable_stay()->set_visit_number("V-a1");
  absl::StatusOr<v1::CommandResponse> discharged = care_->Execute(discharge);
  ASSERT_TRUE(discharged.ok()) << discharged.status();
  EXPECT_EQ(discharged->first_version(), admitted->last_version() + 1);

  // A goal set elsewhere: this service's append at the old version conflicts, and lands after.
  v1::CommandRequest elsewhere = Command("g1", Personnummer(kTolvan));
  elsewhere.mutable_goal_set()->set_goal_id("goal-1");
  absl::StatusOr<v1::CommandResponse> first = (*other)->Execute(elsewhere);
  ASSERT_TRUE(first.ok()) << first.status();
  v1::CommandRequest here = Command("g2", Personnummer(kTolvan));
  here.mutable_goal_set()->set_goal_id("goal-2");
  absl::StatusOr<v1::CommandResponse> second = care_->Execute(here);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->first_version(), first->last_version() + 1);

  // A command the other service executed is a resend here: the original result, nothing new.
  const size_t before = All().size();
  v1::CommandRequest resent = Command("g3", Personnummer(kTolvan));
  resent.mutable_goal_set()->set_goal_id("goal-3");
  absl::StatusOr<v1::CommandResponse> original = (*other)->Execute(resent);
  ASSERT_TRUE(original.ok()) << original.status();
  absl::StatusOr<v1::CommandResponse> replayed = care_->Execute(resent);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(replayed->replayed());
  EXPECT_EQ(replayed->first_position(), original->first_position());
  EXPECT_EQ(All().size(), before + original->event_ids_size());
  // And this service goes on from the head.
  v1::CommandRequest next = Command("g4", Personnummer(kTolvan));
  next.mutable_goal_set()->set_goal_id("goal-4");
  absl::StatusOr<v1::CommandResponse> after = care_->Execute(next);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->first_version(), original->last_version() + 1);
}

TEST_F(CareCommandsTest, RejectedCommandAppendsNothing) {
  ASSERT_TRUE(care_->Execute(Admit("m1", Personnummer(kTolvan))).ok());
  const size_t before = All().size();
  v1::CommandRequest again = Admit("m2", Personnummer(kTolvan));  // already admitted
  EXPECT_EQ(care_->Execute(again).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::CommandRequest unknown = Command("m3", Personnummer(kOther));
  unknown.mutable_activity_started()->set_activity_id("x");  // may not create a patient
  EXPECT_EQ(care_->Execute(unknown).status().code(), absl::StatusCode::kNotFound);
  v1::CommandRequest incomplete = Command("m5", Personnummer(kOther));  // a new person
  incomplete.mutable_inpatient_admitted();  // no visit number: refused, and no patient created
  EXPECT_EQ(care_->Execute(incomplete).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CommandRequest bad = Command("m4", Personnummer("19121212-1213"));  // bad checksum
  bad.mutable_inpatient_admitted()->mutable_stay()->set_visit_number("V");
  absl::Status status = care_->Execute(bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()).find("1213"), std::string::npos) << status;
  EXPECT_EQ(All().size(), before);
}

TEST_F(CareCommandsTest, RepeatedCommandReturnsTheOriginalResult) {
  absl::StatusOr<v1::CommandResponse> first = care_->Execute(Admit("m1", Personnummer(kTolvan)));
  ASSERT_TRUE(first.ok()) << first.status();
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::CommandResponse> again = care_->Execute(Admit("m1", Personnummer(kTolvan)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->event_ids(0), first->event_ids(0));
  EXPECT_EQ(again->first_position(), first->first_position());
  EXPECT_EQ(again->last_version(), first->last_version());
}

TEST_F(CareCommandsTest, ChangedIdentifierLinksToTheSamePatient) {
  v1::PatientIdentifier samordning;
  samordning.set_kind(v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER);
  samordning.set_value(kTolvanSamordning);
  absl::StatusOr<v1::CommandResponse> admitted = care_->Execute(Admit("m1", samordning));
  ASSERT_TRUE(admitted.ok()) << admitted.status();

  v1::CommandRequest link = Command("m2", samordning);
  *link.mutable_link_identifier()->mutable_identifier() = Personnummer(kTolvan);
  *link.mutable_link_identifier()->mutable_supersedes() = samordning;
  absl::StatusOr<v1::CommandResponse> linked = care_->Execute(link);
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->patient_id(), admitted->patient_id());

  v1::ResolvePatientRequest resolve;
  *resolve.mutable_identifier() = Personnummer(kTolvan);
  EXPECT_EQ(care_->ResolvePatient(resolve)->patient_id(), admitted->patient_id());
  *resolve.mutable_identifier() = samordning;
  EXPECT_EQ(care_->ResolvePatient(resolve)->patient_id(), admitted->patient_id());

  // Another patient cannot take the personnummer.
  absl::StatusOr<v1::CommandResponse> other = care_->Execute(Admit("m3", Personnummer(kOther)));
  ASSERT_TRUE(other.ok()) << other.status();
  v1::CommandRequest steal = Command("m4", Personnummer(kOther));
  *steal.mutable_link_identifier()->mutable_identifier() = Personnummer(kTolvan);
  EXPECT_EQ(care_->Execute(steal).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CareCommandsTest, CheckDeadlinesBreachesExactlyOnce) {
  absl::StatusOr<v1::CommandResponse> admitted = care_->Execute(Admit("m1", Personnummer(kTolvan)));
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  v1::CommandRequest assessed = Command("m2", Personnummer(kTolvan));
  assessed.mutable_post_discharge_needs_assessed();
  ASSERT_TRUE(care_->Execute(assessed).ok());

  absl::StatusOr<v1::CheckDeadlinesResponse> early = care_->CheckDeadlines(kT0 + absl::Hours(23));
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->event_ids_size(), 0);
  absl::StatusOr<v1::CheckDeadlinesResponse> late = care_->CheckDeadlines(kT0 + absl::Hours(25));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->event_ids_size(), 1);
  absl::StatusOr<v1::CheckDeadlinesResponse> again = care_->CheckDeadlines(kT0 + absl::Hours(48));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->event_ids_size(), 0);
  int breaches = 0;
  for (const es::RecordedEvent& event : All()) {
    breaches += event.type == "carehub.care.v1.DeadlineBreached";
  }
  EXPECT_EQ(breaches, 1);
}

// Trin: the nursing-home place is not ready, so the municipality's payment responsibility starts.
TEST_F(CareCommandsTest, PaymentResponsibilityStartsUnderTheAgreementInForce) {
  PaymentAgreement agreement{.agreement_id = "test-region-agreement",
                             .version = "2026-1",
                             .days = 3,
                             .day_type = DayType::kWorking,
                             .cut_off_hour = 13,
                             .daily_rate_ore = 850000};
  absl::StatusOr<std::unique_ptr<CareCommands>> care = CareCommands::Create(
      store_.get(), {.clock = &clock_,
                     .ids = ids_.get(),
                     .hub_key = *LoadOrCreateHubKey(dir_.File("hub.key")),
                     .payment_agreements = {agreement}});
  ASSERT_TRUE(care.ok()) << care.status();
  ASSERT_TRUE((*care)->Execute(Admit("t1", Personnummer(kTolvan))).ok());
  // Ready on Wednesday 18 November 2026 at 12:06 local (kT0), before the cut-off; 3 working
  // days (Thu, Fri, Mon): payment responsibility from Tuesday 24.
  v1::CommandRequest ready = Command("t2", Personnummer(kTolvan));
  ready.mutable_discharge_ready_declared();
  ASSERT_TRUE((*care)->Execute(ready).ok());

  absl::TimeZone stockholm;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &stockholm));
  const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 11, 24), stockholm);
  absl::StatusOr<v1::CheckDeadlinesResponse> checked =
      (*care)->CheckDeadlines(start - absl::Seconds(1));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->event_ids_size(), 1);  // only the SIP invitation (due end of Saturday)
  checked = (*care)->CheckDeadlines(start);
  ASSERT_TRUE(checked.ok()) << checked.status();
  ASSERT_EQ(checked->event_ids_size(), 1);
  bool found = false;
  for (const es::RecordedEvent& event : All()) {
    v1::CareEvent care_event;
    ASSERT_TRUE(care_event.ParseFromString(event.data));
    if (care_event.event_id() != checked->event_ids(0)) continue;
    found = true;
    const v1::DeadlineBreached& breached = care_event.deadline_breached();
    EXPECT_EQ(breached.kind(), v1::DEADLINE_KIND_PAYMENT_RESPONSIBILITY);
    EXPECT_EQ(breached.agreement_id(), "test-region-agreement");
    EXPECT_EQ(breached.agreement_version(), "2026-1");
    EXPECT_EQ(internal::ToAbslTime(breached.due()), start);
  }
  EXPECT_TRUE(found);
}

TEST_F(CareCommandsTest, HubKeyIsCreatedOnceAndRegistryStreamsAreKeyed) {
  absl::StatusOr<std::string> key = LoadOrCreateHubKey(dir_.File("hub.key"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), kHubKeyBytes);
  EXPECT_EQ(*LoadOrCreateHubKey(dir_.File("hub.key")), *key);
  EXPECT_NE(*LoadOrCreateHubKey(dir_.File("other.key")), *key);

  ASSERT_TRUE(care_->Execute(Admit("m1", Personnummer(kTolvan))).ok());
  int registry_streams = 0;
  for (const es::RecordedEvent& event : All()) {
    if (event.stream_id.rfind("pid-", 0) != 0) continue;
    ++registry_streams;
    EXPECT_EQ(event.stream_id.size(), 4u + 64u);  // "pid-" + HMAC-SHA256 in hex
    EXPECT_EQ(event.type, "carehub.care.v1.PatientIdentifierLinked");
  }
  EXPECT_EQ(registry_streams, 1);
}

TEST_F(CareCommandsTest, UnknownPatientIdIsNotFound) {
  v1::CommandRequest command = Command("m1", Personnummer(kTolvan));
  command.mutable_patient()->set_patient_id("3b0c5e8a-1f2d-4c7e-9a61-0d2f4e8b7c15");
  command.mutable_patient_enrolled()->set_target_group(v1::TARGET_GROUP_MOST_ILL);
  EXPECT_EQ(care_->Execute(command).status().code(), absl::StatusCode::kNotFound);
  command.mutable_patient()->set_patient_id("191212121212");
  EXPECT_EQ(care_->Execute(command).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carehub::care
