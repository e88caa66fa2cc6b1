// Access logging through the real HTTP server: Märta's scenario in a real read model, a real
// access log (an event store in its own directory), requests over real sockets. Every FHIR read,
// search, history and $everything must leave its entry, with the agent the headers named and the
// patients the response held, before the response is sent; AuditEvent serves the log back.
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "carehub/audit/access_log.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/http_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "eventstore/testing/forwarding_store.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/testing/http_client.h"

namespace carehub::services {
namespace {

using Json = nlohmann::json;
using testing::TestHttpClient;
using Response = TestHttpClient::Response;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kScenarioPatient[] = "7f3c2a10-aaaa-4bbb-8ccc-0123456789ab";
constexpr char kUser[] = "SE2321000016-U1234";
constexpr char kOrg[] = "SE2321000016";
constexpr char kUnit[] = "SE2321000016-E5678";
constexpr char kNurse[] = "SE2120001231-N0042";
constexpr char kMunicipality[] = "SE2120001231";

// An event store that holds every AppendAsync until the test lets it through (or fails it), so
// that the test can see what the server does meanwhile. Everything else goes straight through.
class GatedStore : public eventstore::testing::ForwardingStore {
 public:
  explicit GatedStore(std::unique_ptr<eventstore::EventStore> inner)
      : ForwardingStore(inner.get()), owned_(std::move(inner)) {}

  void AppendAsync(std::string_view stream_id, eventstore::ExpectedVersion expected,
                   std::vector<eventstore::ProposedEvent> events, AppendCallback done) override {
    Held held{std::string(stream_id), expected, std::move(events), std::move(done)};
    {
      absl::MutexLock lock(&mu_);
      if (!open_) {
        held_.push_back(std::move(held));
        return;
      }
    }
    inner()->AppendAsync(held.stream, held.expected, std::move(held.events), std::move(held.done));
  }
  // Waits for a held append; passes it on (or fails it with `error`), marking the moment.
  void ReleaseNext(absl::Status error = absl::OkStatus()) {
    Held held = TakeNext();
    released_.fetch_add(1);
    if (!error.ok()) return held.done(error);
    inner()->AppendAsync(held.stream, held.expected, std::move(held.events), std::move(held.done));
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  int released() const { return released_.load(); }

 private:
  struct Held {
    std::string stream;
    eventstore::ExpectedVersion expected;
    std::vector<eventstore::ProposedEvent> events;
    AppendCallback done;
  };
  Held TakeNext() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](std::deque<Held>* h) { return !h->empty(); }, &held_));
    Held held = std::move(held_.front());
    held_.pop_front();
    return held;
  }

  std::unique_ptr<eventstore::EventStore> owned_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  std::deque<Held> held_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> released_{0};
};

class FhirAccessLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto log = fhir::testing::ScenarioLog::Open(dir_->File("eventstore"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = log->release();
    ASSERT_TRUE(
        log_->AppendAll(fhir::testing::MartaScenario(kScenarioPatient, fhir::testing::ScenarioStart())).ok());
    auto model = fhir::ReadModel::Open({.path = dir_->File("fhir")});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = model->release();
    ASSERT_TRUE(fhir::testing::ProjectLog(log_->store(), *model_).ok());
    auto patients = model_->ListByType("Patient");
    ASSERT_TRUE(patients.ok() && patients->size() == 1);
    patient_ = new std::string(Json::parse(patients->front())["id"]);

    auto store = eventstore::EventStore::Open({.path = dir_->File("access-log")});
    ASSERT_TRUE(store.ok()) << store.status();
    gate_ = new GatedStore(*std::move(store));
    access_log_ = new audit::AccessLog(std::unique_ptr<eventstore::EventStore>(gate_));
    api_ = new FhirApi(model_, {.access_log = access_log_});
    server_ = new HttpServer(api_, {.address = "127.0.0.1:0", .access_log = false});
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete api_;
    delete access_log_;  // owns gate_
    delete model_;
    delete log_;
    delete patient_;
    delete dir_;
  }

  static Headers Clinician() {
    return {{"X-Carehub-User", kUser}, {"X-Carehub-Organization", kOrg}, {"X-Carehub-Care-Unit", kUnit}};
  }
  static Headers Nurse() { return {{"X-Carehub-User", kNurse}, {"X-Carehub-Organization", kMunicipality}}; }

  // The newest access entry, after a request.
  static audit::AccessEntry Last() {
    absl::StatusOr<audit::AccessPage> page = access_log_->Find({.limit = 1});
    EXPECT_TRUE(page.ok() && page->entries.size() == 1);
    return page.ok() && !page->entries.empty() ? page->entries[0] : audit::AccessEntry();
  }
  static uint64_t Count() { return eventstore::LogEnd(access_log_->store()).value(); }
  static std::string PlanId() {
    auto plans = model_->ListByType("CarePlan");
    EXPECT_TRUE(plans.ok() && !plans->empty());
    return Json::parse(plans->front())["id"];
  }
  // Sends a request and checks that it left exactly one entry, which it returns.
  audit::AccessEntry Logged(const std::string& target, const Headers& headers, int status) {
    const uint64_t before = Count();
    Response r = client_.Send("GET", target, headers);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    EXPECT_EQ(Count(), before + 1) << target;
    last_body_ = r.body;
    return Last();
  }

  static testing::TempDir* dir_;
  static fhir::testing::ScenarioLog* log_;
  static fhir::ReadModel* model_;
  static std::string* patient_;
  static GatedStore* gate_;
  static audit::AccessLog* access_log_;
  static FhirApi* api_;
  static HttpServer* server_;
  static int port_;
  TestHttpClient client_{port_};
  std::string last_body_;
};

testing::TempDir* FhirAccessLogTest::dir_ = nullptr;
fhir::testing::ScenarioLog* FhirAccessLogTest::log_ = nullptr;
fhir::ReadModel* FhirAccessLogTest::model_ = nullptr;
std::string* FhirAccessLogTest::patient_ = nullptr;
GatedStore* FhirAccessLogTest::gate_ = nullptr;
audit::AccessLog* FhirAccessLogTest::access_log_ = nullptr;
FhirApi* FhirAccessLogTest::api_ = nullptr;
HttpServer* FhirAccessLogTest::server_ = nullptr;
int FhirAccessLogTest::port_ = 0;

TEST_F(FhirAccessLogTest, EveryReadSearchHistoryAndEverythingIsLoggedWithAgentAndPatients) {
  const std::string& patient = *patient_;
  const std::string plan = PlanId();
  const audit::AccessAgent clinician{kUser, kOrg, kUnit};

  audit::AccessEntry read = Logged("/fhir/CarePlan/" + plan, Clinician(), 200);
  EXPECT_EQ(read.agent, clinician);
  EXPECT_EQ(read.interaction, "read");
  EXPECT_EQ(read.resource_type, "CarePlan");
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.patients, std::vector<std::string>{patient});
  ASSERT_EQ(read.resources.size(), 1u);
  EXPECT_EQ(read.resources[0].type, "CarePlan");
  EXPECT_EQ(read.resources[0].id, plan);
  EXPECT_EQ(std::to_string(read.resources[0].version),
            std::string(Json::parse(last_body_)["meta"]["versionId"]));

  audit::AccessEntry vread = Logged("/fhir/CarePlan/" + plan + "/_history/1", Nurse(), 200);
  EXPECT_EQ(vread.interaction, "vread");
  EXPECT_EQ(vread.agent, (audit::AccessAgent{kNurse, kMunicipality, ""}));
  EXPECT_EQ(vread.resources, (std::vector<audit::AccessedResource>{{"CarePlan", plan, 1}}));

  audit::AccessEntry patient_read = Logged("/fhir/Patient/" + patient, Clinician(), 200);
  EXPECT_EQ(patient_read.patients, std::vector<std::string>{patient});

  audit::AccessEntry search = Logged("/fhir/CarePlan?patient=" + patient, Clinician(), 200);
  EXPECT_EQ(search.interaction, "search-type");
  EXPECT_EQ(search.patients, std::vector<std::string>{patient});
  EXPECT_EQ(search.resources.size(), Json::parse(last_body_)["entry"].size());

  audit::AccessEntry history = Logged("/fhir/CarePlan/" + plan + "/_history", Clinician(), 200);
  EXPECT_EQ(history.interaction, "history-instance");
  EXPECT_EQ(history.patients, std::vector<std::string>{patient});
  EXPECT_GE(history.resources.size(), 2u);
  EXPECT_EQ(Logged("/fhir/CarePlan/_history", Clinician(), 200).interaction, "history-type");

  audit::AccessEntry everything = Logged("/fhir/Patient/" + patient + "/$everything?_count=500", Clinician(), 200);
  EXPECT_EQ(everything.interaction, "operation");
  EXPECT_EQ(everything.operation, "everything");
  EXPECT_EQ(everything.patients, std::vector<std::string>{patient});
  // What the response held: the records of other owners that the clinician's organisation has
  // no consent for are withheld (an outcome entry says so) and not logged as accessed.
  size_t held = 0;
  const Json bundle = Json::parse(last_body_);
  for (const Json& entry : bundle["entry"]) {
    if (entry["search"]["mode"] != "outcome") ++held;
  }
  EXPECT_EQ(everything.resources.size(), held);

  // A search that finds nothing and a read of nothing are still accesses, without patients.
  audit::AccessEntry empty = Logged("/fhir/CarePlan?patient=nobody", Clinician(), 200);
  EXPECT_TRUE(empty.patients.empty());
  audit::AccessEntry missing = Logged("/fhir/CarePlan/nope", Clinician(), 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.resources.empty());

  // Without the headers: anonymous.
  audit::AccessEntry anonymous = Logged("/fhir/CarePlan/" + plan, {}, 200);
  EXPECT_TRUE(anonymous.agent.anonymous());
  EXPECT_EQ(anonymous.patients, std::vector<std::string>{patient});

  // What reads no patient data leaves nothing; a malformed agent header is refused unlogged.
  const uint64_t before = Count();
  EXPECT_EQ(client_.Send("GET", "/fhir/metadata").status, 200);
  EXPECT_EQ(client_.Send("GET", "/health").status, 200);
  EXPECT_EQ(client_.Send("GET", "/fhir/CarePlan/" + plan, {{"X-Carehub-User", "19121212-1212 x"}}).status, 400);
  EXPECT_EQ(Count(), before);
}

TEST_F(FhirAccessLogTest, TheResponseIsWrittenOnlyAfterTheEntryIsDurable) {
  const std::string target = "/fhir/CarePlan/" + PlanId();
  gate_->Close();
  const int released_before = gate_->released();
  int released_at_response = -1;
  Response response;
  std::thread reader([&] {
    response = client_.Send("GET", target, Clinician());
    released_at_response = gate_->released();
  });
  gate_->ReleaseNext();
  reader.join();
  gate_->Open();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(released_at_response, released_before + 1);
}

TEST_F(FhirAccessLogTest, AReadThatCannotBeLoggedIsNotServed) {
  const std::string target = "/fhir/CarePlan/" + PlanId();
  gate_->Close();
  std::thread failer([&] { gate_->ReleaseNext(absl::InternalError("disk full")); });
  Response r = client_.Send("GET", target, Clinician());
  failer.join();
  gate_->Open();
  EXPECT_EQ(r.status, 503);
  Json outcome = Json::parse(r.body);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_EQ(r.body.find("\"CarePlan\""), std::string::npos) << "the resource leaked: " << r.body;
  EXPECT_EQ(client_.Send("GET", target, Clinician()).status, 200);  // served again once logging works
}

TEST_F(FhirAccessLogTest, AuditEventSearchByPatientAgentAndDateAndReadById) {
  const std::string& patient = *patient_;
  const std::string plan = PlanId();
  ASSERT_EQ(client_.Send("GET", "/fhir/CarePlan/" + plan, Nurse()).status, 200);
  ASSERT_EQ(client_.Send("GET", "/fhir/CarePlan/" + plan, Clinician()).status, 200);

  Response by_nurse = client_.Send("GET", std::string("/fhir/AuditEvent?agent=") + kNurse, Clinician());
  ASSERT_EQ(by_nurse.status, 200) << by_nurse.body;
  Json bundle = Json::parse(by_nurse.body);
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  EXPECT_EQ(bundle["type"], "searchset");
  ASSERT_FALSE(bundle["entry"].empty());
  for (const Json& e : bundle["entry"]) {
    const Json& ae = e["resource"];
    EXPECT_EQ(ae["resourceType"], "AuditEvent");
    EXPECT_EQ(ae["agent"][0]["who"]["identifier"]["value"], kNurse);
    EXPECT_EQ(ae["agent"][0]["who"]["identifier"]["system"], "urn:oid:1.2.752.29.4.19");
  }
  // The newest first: the nurse's read just now.
  const Json& newest = bundle["entry"][0]["resource"];
  EXPECT_EQ(newest["subtype"][0]["code"], "read");
  EXPECT_EQ(newest["action"], "R");
  EXPECT_EQ(newest["entity"][0]["what"]["reference"], "Patient/" + patient);

  // With the system, as a FHIR client would send a token; and by the care unit.
  Response with_system = client_.Send(
      "GET", std::string("/fhir/AuditEvent?agent=urn:oid:1.2.752.29.4.19%7C") + kNurse, Clinician());
  EXPECT_EQ(Json::parse(with_system.body)["entry"].size(), bundle["entry"].size());
  Response by_unit = client_.Send("GET", std::string("/fhir/AuditEvent?agent=") + kUnit + "&_count=1", Clinician());
  Json unit_bundle = Json::parse(by_unit.body);
  ASSERT_EQ(unit_bundle["entry"].size(), 1u);
  EXPECT_EQ(unit_bundle["entry"][0]["resource"]["agent"][1]["who"]["identifier"]["value"], kUnit);
  bool has_next = false;
  for (const Json& link : unit_bundle["link"]) has_next |= link["relation"] == "next";
  EXPECT_TRUE(has_next) << by_unit.body;

  // By patient: every entry names the patient; by date: today has them, a past year nothing.
  Response by_patient = client_.Send("GET", "/fhir/AuditEvent?patient=Patient/" + patient, Clinician());
  Json patient_bundle = Json::parse(by_patient.body);
  ASSERT_GE(patient_bundle["entry"].size(), 2u);
  for (const Json& e : patient_bundle["entry"]) {
    EXPECT_NE(e["resource"].dump().find("Patient/" + patient), std::string::npos);
  }
  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  Response dated = client_.Send(
      "GET", absl::StrCat("/fhir/AuditEvent?patient=", patient, "&date=ge", today, "&agent=", kNurse), Clinician());
  EXPECT_EQ(Json::parse(dated.body)["entry"].size(), bundle["entry"].size());
  Response old = client_.Send("GET", "/fhir/AuditEvent?patient=" + patient + "&date=lt2020-01-01", Clinician());
  EXPECT_TRUE(Json::parse(old.body).value("entry", Json::array()).empty()) << old.body;
  EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent?date=yesterday", Clinician()).status, 400);
  EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent?agent=x|y", Clinician()).status, 400);

  // Read by id, and reading the access log is itself logged, naming the patient.
  const std::string id = newest["id"];
  Response one = client_.Send("GET", "/fhir/AuditEvent/" + id, Clinician());
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json::parse(one.body), newest);
  audit::AccessEntry logged = Last();
  EXPECT_EQ(logged.resource_type, "AuditEvent");
  EXPECT_EQ(logged.interaction, "read");
  EXPECT_EQ(logged.patients, std::vector<std::string>{patient});
  EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent/999999", Clinician()).status, 404);
  EXPECT_EQ(client_.Send("DELETE", "/fhir/AuditEvent/" + id, Clinician()).status, 405);
  EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent/" + id + "/_history", Clinician()).status, 404);
}

TEST_F(FhirAccessLogTest, CapabilityStatementListsAuditEventWithWhatIsSupported) {
  Json cs = Json::parse(client_.Send("GET", "/fhir/metadata").body);
  const Json* audit_event = nullptr;
  std::string previous;
  for (const Json& r : cs["rest"][0]["resource"]) {
    EXPECT_LT(previous, std::string(r["type"])) << "resources out of order";
    previous = r["type"];
    if (r["type"] == "AuditEvent") audit_event = &r;
  }
  ASSERT_NE(audit_event, nullptr);
  std::set<std::string> interactions, params;
  for (const Json& i : (*audit_event)["interaction"]) interactions.insert(i["code"]);
  for (const Json& p : (*audit_event)["searchParam"]) params.insert(p["name"]);
  EXPECT_EQ(interactions, (std::set<std::string>{"read", "search-type"}));
  EXPECT_EQ(params, (std::set<std::string>{"patient", "agent", "date"}));
  // Each listed parameter is accepted under strict handling; an unlisted one is not.
  for (const std::string& p : params) {
    const std::string value = p == "date" ? "ge2020-01-01" : p == "agent" ? kUser : *patient_;
    EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent?" + p + "=" + value, {{"Prefer", "handling=strict"}}).status,
              200)
        << p;
  }
  EXPECT_EQ(client_.Send("GET", "/fhir/AuditEvent?action=R", {{"Prefer", "handling=strict"}}).status, 400);
}

}  // namespace
}  // namespace carehub::services
