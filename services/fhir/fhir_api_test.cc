// The FHIR API over a real read model (Märta's scenario projected from a real event log), served
// by a real HttpServer on port 0 and driven over real sockets. When CAREHUB_FHIR_DUMP_DIR is set,
// every resource and Bundle the API returns is written there for the FHIR validators.
#include "carehub/services/fhir_api.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "carehub/base/strings.h"
#include "carehub/fhir/search.h"
#include "fhir/testing/care_events.h"
#include "carehub/services/http_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/gzip.h"
#include "services/fhir/testing/http_client.h"

namespace carehub::services {
namespace {

using Json = nlohmann::json;
using testing::TestHttpClient;
using Response = TestHttpClient::Response;

constexpr char kScenarioPatient[] = "7f3c2a10-aaaa-4bbb-8ccc-0123456789ab";
// The Patient resource's id, read from the model once projected.
std::string kPatient;

class FhirApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto log = fhir::testing::ScenarioLog::Open(dir_->File("log"));
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
    kPatient = Json::parse(patients->front())["id"];
    api_ = new FhirApi(model_, {.health = [] {
                                 return FhirHealth{.ready = true, .checkpoint = 7, .log_end = 7};
                               }});
    server_ = new HttpServer(api_, {.address = "127.0.0.1:0", .access_log = false});
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete api_;
    delete model_;
    delete log_;
    delete dir_;
  }

  // GET with FHIR JSON; the body is dumped for the validators when it is a FHIR resource (not,
  // e.g., the /health document).
  Response Get(const std::string& target,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    Response r = client_.Send("GET", target, headers);
    Dump(r);
    return r;
  }
  static void Dump(const Response& r) {
    const char* dir = std::getenv("CAREHUB_FHIR_DUMP_DIR");
    if (dir == nullptr || *dir == '\0' || r.body.empty() || r.body[0] != '{') return;
    const Json body = Json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("resourceType")) return;
    static int n = 0;
    std::ofstream(std::filesystem::path(dir) / absl::StrCat("api-response-", ++n, ".json")) << r.body;
  }
  static Json Parse(const Response& r) {
    Json j = Json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  static void ExpectOutcome(const Response& r, int status, const std::string& fragment) {
    EXPECT_EQ(r.status, status) << r.body;
    Json j = Parse(r);
    EXPECT_EQ(j.value("resourceType", ""), "OperationOutcome") << r.body;
    EXPECT_NE(r.body.find(fragment), std::string::npos) << r.body;
  }
  std::string CarePlanId() {
    auto plans = model_->ListByType("CarePlan");
    EXPECT_TRUE(plans.ok() && !plans->empty());
    return Json::parse(plans->front())["id"];
  }
  std::string Base() { return absl::StrCat("http://127.0.0.1:", port_, "/fhir"); }

  static testing::TempDir* dir_;
  static fhir::testing::ScenarioLog* log_;
  static fhir::ReadModel* model_;
  static FhirApi* api_;
  static HttpServer* server_;
  static int port_;
  TestHttpClient client_{port_};
};

testing::TempDir* FhirApiTest::dir_ = nullptr;
fhir::testing::ScenarioLog* FhirApiTest::log_ = nullptr;
fhir::ReadModel* FhirApiTest::model_ = nullptr;
FhirApi* FhirApiTest::api_ = nullptr;
HttpServer* FhirApiTest::server_ = nullptr;
int FhirApiTest::port_ = 0;

TEST_F(FhirApiTest, ReadServesTheStoredBytesWithEtagAndLastModified) {
  const std::string id = CarePlanId();
  Response r = Get("/fhir/CarePlan/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/fhir+json;charset=utf-8");
  EXPECT_EQ(r.body, *model_->Read("CarePlan", id));
  Json plan = Parse(r);
  const std::string version = plan["meta"]["versionId"];
  EXPECT_EQ(r.header("etag"), absl::StrCat("W/\"", version, "\""));
  EXPECT_FALSE(r.header("last-modified").empty());
  EXPECT_NE(r.header("last-modified").find("GMT"), std::string::npos);
}

TEST_F(FhirApiTest, VreadAndItsErrors) {
  const std::string id = CarePlanId();
  Response v1 = Get("/fhir/CarePlan/" + id + "/_history/1");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(Parse(v1)["meta"]["versionId"], "1");
  EXPECT_EQ(v1.header("etag"), "W/\"1\"");
  ExpectOutcome(Get("/fhir/CarePlan/" + id + "/_history/999"), 404, "has no version 999");
  ExpectOutcome(Get("/fhir/CarePlan/" + id + "/_history/x"), 400, "not a versionId");
  ExpectOutcome(Get("/fhir/CarePlan/nope/_history/1"), 404, "CarePlan/nope is not known");
}

TEST_F(FhirApiTest, ConditionalReadsAnswer304) {
  const std::string id = CarePlanId();
  Response r = Get("/fhir/CarePlan/" + id);
  const std::string etag = r.header("etag");
  Response same = Get("/fhir/CarePlan/" + id, {{"If-None-Match", etag}});
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(same.body, "");
  EXPECT_EQ(same.header("etag"), etag);
  EXPECT_EQ(Get("/fhir/CarePlan/" + id, {{"If-None-Match", "W/\"0\""}}).status, 200);
  EXPECT_EQ(Get("/fhir/CarePlan/" + id, {{"If-Modified-Since", r.header("last-modified")}}).status,
            304);
  EXPECT_EQ(
      Get("/fhir/CarePlan/" + id, {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status,
      200);
  // If-None-Match decides when both are sent.
  EXPECT_EQ(Get("/fhir/CarePlan/" + id, {{"If-None-Match", "W/\"0\""},
                                         {"If-Modified-Since", r.header("last-modified")}})
                .status,
            200);
}

TEST_F(FhirApiTest, UnknownTypeIdAndRouteAre404InvalidIdIs400) {
  ExpectOutcome(Get("/fhir/Medication/x"), 404, "resource type 'Medication' is not served");
  ExpectOutcome(Get("/fhir/Patient/does-not-exist"), 404, "Patient/does-not-exist is not known");
  ExpectOutcome(Get("/fhir/Patient/a_b"), 400, "not a valid FHIR id");
  ExpectOutcome(Get("/fhir/Patient/x/y/z/w"), 404, "nothing is served");
  ExpectOutcome(Get("/other"), 404, "the FHIR base is /fhir");
  ExpectOutcome(Get("/fhir/Patient/x/$validate"), 404, "not supported");
}

TEST_F(FhirApiTest, WritesAre405WithAllow) {
  for (const char* method : {"PUT", "DELETE", "PATCH"}) {
    Response r = client_.Send(method, "/fhir/Patient/" + kPatient, {}, "{}");
    ExpectOutcome(r, 405, "read-only");
    EXPECT_EQ(r.header("allow"), "GET");
  }
  Response create = client_.Send("POST", "/fhir/Patient", {{"Content-Type", "application/fhir+json"}},
                                 R"({"resourceType":"Patient"})");
  ExpectOutcome(create, 405, "(create)");
  ExpectOutcome(client_.Send("POST", "/fhir", {}, "{}"), 405, "(transaction)");
}

TEST_F(FhirApiTest, ContentNegotiation) {
  const std::string path = "/fhir/Patient/" + kPatient;
  ExpectOutcome(Get(path, {{"Accept", "application/fhir+xml"}}), 406, "application/fhir+json");
  ExpectOutcome(Get(path + "?_format=xml"), 406, "_format=xml");
  ExpectOutcome(Get(path, {{"Accept", "application/fhir+json; fhirVersion=3.0"}}), 406, "R4");
  EXPECT_EQ(Get(path, {{"Accept", "application/json"}}).header("content-type"),
            "application/json;charset=utf-8");
  EXPECT_EQ(Get(path + "?_format=json", {{"Accept", "text/html"}}).status, 200);
  EXPECT_EQ(Get(path, {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}}).status, 200);
  EXPECT_EQ(Get(path, {{"Accept", "application/fhir+json;fhirVersion=4.0"}}).status, 200);
  ExpectOutcome(Get(path + "?_format=%zz"), 400, "percent-escape");
}

TEST_F(FhirApiTest, PrettySummaryAndElements) {
  const std::string path = "/fhir/Patient/" + kPatient;
  Response pretty = Get(path + "?_pretty=true");
  EXPECT_NE(pretty.body.find("\n  \"resourceType\""), std::string::npos);
  EXPECT_EQ(Json::parse(pretty.body), Json::parse(Get(path).body));

  Json full = Parse(Get("/fhir/CarePlan/" + CarePlanId()));
  Json summary = Parse(Get("/fhir/CarePlan/" + CarePlanId() + "?_summary=true"));
  EXPECT_EQ(summary["meta"]["tag"].back()["code"], "SUBSETTED");
  EXPECT_TRUE(summary.contains("status") && summary.contains("subject"));
  if (full.contains("activity")) {
    EXPECT_FALSE(summary.contains("activity"));
  }

  Json elements = Parse(Get("/fhir/CarePlan/" + CarePlanId() + "?_elements=title"));
  std::set<std::string> keys;
  for (auto it = elements.begin(); it != elements.end(); ++it) keys.insert(it.key());
  std::set<std::string> allowed = {"resourceType", "id", "meta", "status", "intent", "subject", "title"};
  for (const std::string& k : keys) EXPECT_TRUE(allowed.count(k)) << k;
  EXPECT_TRUE(keys.count("status"));  // mandatory, kept so the resource stays valid
  ExpectOutcome(Get(path + "?_summary=maybe"), 400, "_summary=maybe");
}

TEST_F(FhirApiTest, CapabilityStatementComesFromTheSearchTable) {
  Response r = Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  Json cs = Parse(r);
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["fhirVersion"], "4.0.1");
  const Json& resources = cs["rest"][0]["resource"];
  ASSERT_EQ(resources.size(), fhir::SearchDefinitions().size());
  for (size_t i = 0; i < resources.size(); ++i) {
    const fhir::ResourceSearchDef& def = fhir::SearchDefinitions()[i];
    EXPECT_EQ(resources[i]["type"], std::string(def.type));
    EXPECT_EQ(resources[i]["searchParam"].size(), def.params.size());
    std::set<std::string> interactions;
    for (const Json& i2 : resources[i]["interaction"]) interactions.insert(i2["code"]);
    EXPECT_EQ(interactions, (std::set<std::string>{"read", "vread", "history-instance",
                                                   "history-type", "search-type"}));
    // Every type the statement lists answers a search.
    EXPECT_EQ(Get(absl::StrCat("/fhir/", std::string(def.type), "?_count=1")).status, 200);
  }
}

TEST_F(FhirApiTest, SearchBundleWithIncludeLinksAndFullUrls) {
  Response r = Get(absl::StrCat("/fhir/CarePlan?patient=", kPatient, "&_include=CarePlan:care-team"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json b = Parse(r);
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "searchset");
  EXPECT_EQ(b["total"], 1);
  std::set<std::string> modes;
  for (const Json& e : b["entry"]) {
    modes.insert(e["search"]["mode"]);
    EXPECT_EQ(e["fullUrl"], absl::StrCat(Base(), "/", std::string(e["resource"]["resourceType"]),
                                         "/", std::string(e["resource"]["id"])));
  }
  EXPECT_EQ(modes, (std::set<std::string>{"match", "include"}));
  EXPECT_EQ(b["link"][0]["relation"], "self");
  EXPECT_EQ(std::string(b["link"][0]["url"]).rfind(Base() + "/CarePlan?", 0), 0u);
}

TEST_F(FhirApiTest, UnknownSearchParameterIsReportedOrStrict400) {
  Response lenient = Get(absl::StrCat("/fhir/CarePlan?patient=", kPatient, "&bogus=1"));
  ASSERT_EQ(lenient.status, 200) << lenient.body;
  Json b = Parse(lenient);
  EXPECT_EQ(std::string(b["link"][0]["url"]).find("bogus"), std::string::npos);
  bool outcome = false;
  for (const Json& e : b["entry"]) {
    if (e["search"]["mode"] == "outcome") {
      outcome = true;
      EXPECT_EQ(e["resource"]["resourceType"], "OperationOutcome");
      EXPECT_NE(e["resource"].dump().find("bogus"), std::string::npos);
    }
  }
  EXPECT_TRUE(outcome);
  ExpectOutcome(Get(absl::StrCat("/fhir/CarePlan?patient=", kPatient, "&bogus=1"),
                    {{"Prefer", "handling=strict"}}),
                400, "bogus");
  ExpectOutcome(Get("/fhir/CarePlan?date=notadate"), 400, "date");
}

TEST_F(FhirApiTest, PostSearchMatchesGet) {
  Response get = Get(absl::StrCat("/fhir/CarePlan?patient=", kPatient));
  Response post = client_.Send("POST", "/fhir/CarePlan/_search",
                               {{"Content-Type", "application/x-www-form-urlencoded"}},
                               absl::StrCat("patient=", kPatient));
  Dump(post);
  ASSERT_EQ(post.status, 200) << post.body;
  EXPECT_EQ(Parse(post)["entry"], Parse(get)["entry"]);
  ExpectOutcome(client_.Send("POST", "/fhir/CarePlan/_search", {{"Content-Type", "application/json"}},
                             "{}"),
                415, "x-www-form-urlencoded");
}

TEST_F(FhirApiTest, SearchSummaryAndGzip) {
  Response r = Get(absl::StrCat("/fhir/Task?patient=", kPatient, "&_summary=true"));
  ASSERT_EQ(r.status, 200) << r.body;
  const Json summary = Parse(r);
  for (const Json& e : summary["entry"]) {
    if (e["search"]["mode"] != "match") continue;
    EXPECT_EQ(e["resource"]["meta"]["tag"].back()["code"], "SUBSETTED");
  }
  Response count = Get(absl::StrCat("/fhir/Task?patient=", kPatient, "&_summary=count"));
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_FALSE(Parse(count).contains("entry"));
  EXPECT_TRUE(Parse(count).contains("total"));

  Response zipped = client_.Send("GET", absl::StrCat("/fhir/Task?patient=", kPatient),
                                 {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  absl::StatusOr<std::string> body = http_internal::Gunzip(zipped.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(Json::parse(*body)["resourceType"], "Bundle");
}

TEST_F(FhirApiTest, HistoryBundles) {
  const std::string id = CarePlanId();
  Response r = Get("/fhir/CarePlan/" + id + "/_history");
  ASSERT_EQ(r.status, 200) << r.body;
  Json b = Parse(r);
  EXPECT_EQ(b["type"], "history");
  ASSERT_FALSE(b["entry"].empty());
  const Json& newest = b["entry"][0];
  EXPECT_EQ(newest["response"]["etag"],
            absl::StrCat("W/\"", std::string(newest["resource"]["meta"]["versionId"]), "\""));
  const Json& oldest = b["entry"].back();
  EXPECT_EQ(oldest["request"]["method"], "POST");
  EXPECT_EQ(oldest["resource"]["meta"]["versionId"], "1");

  Response type = Get("/fhir/CarePlan/_history?_count=2");
  ASSERT_EQ(type.status, 200) << type.body;
  EXPECT_EQ(Parse(type)["type"], "history");
  ExpectOutcome(Get("/fhir/CarePlan/nope/_history"), 404, "nope");
}

TEST_F(FhirApiTest, PatientEverything) {
  Response r = Get(absl::StrCat("/fhir/Patient/", kPatient, "/$everything?_count=500"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> types;
  const Json everything = Parse(r);
  for (const Json& e : everything["entry"]) types.insert(e["resource"]["resourceType"]);
  for (const char* t : {"Patient", "CarePlan", "CareTeam", "Encounter", "Task", "Goal", "Consent"}) {
    EXPECT_TRUE(types.count(t)) << t;
  }
  ExpectOutcome(Get("/fhir/Patient/nobody/$everything"), 404, "nobody");

  // An organisation outside her care (fhir_disclosure_test has the rules): the owned records are
  // withheld, which the Bundle says in an outcome entry, and reading one is 403. Both bodies go to
  // the validators like every other.
  const std::pair<std::string, std::string> outsider{"X-Carehub-Organization",
                                                     "SE2321000016-E000000000077"};
  r = Get(absl::StrCat("/fhir/Patient/", kPatient, "/$everything?_count=500"), {outsider});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json withheld = Parse(r);
  std::string encounter;
  for (const Json& e : everything["entry"]) {
    if (e["resource"]["resourceType"] == "Encounter") encounter = e["resource"]["id"];
  }
  bool outcome = false;
  for (const Json& e : withheld["entry"]) {
    EXPECT_NE(e["resource"]["resourceType"], "Encounter");
    outcome = outcome || e["search"]["mode"] == "outcome";
  }
  EXPECT_TRUE(outcome) << r.body;
  ExpectOutcome(Get("/fhir/Encounter/" + encounter, {outsider}), 403, "withheld");
}

TEST_F(FhirApiTest, OversizedTargetIs414OperationOutcome) {
  ExpectOutcome(Get("/fhir/Patient?name=" + std::string(9000, 'a')), 414, "longer than");
}

TEST_F(FhirApiTest, HealthOutsideTheFhirBase) {
  Response r = Get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Parse(r)["status"], "ready");
  EXPECT_EQ(Parse(r)["checkpoint"], 7);
}

}  // namespace
}  // namespace carehub::services
