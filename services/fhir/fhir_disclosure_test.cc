// Disclosure control on reads: another data owner's record is shown only with the patient's
// consent and never against a block. The rules alone (PatientDisclosure over Consent JSON), then
// the API over Märta's scenario in a real read model, served over real sockets, with a real
// access log: the region, the municipality and an organisation outside her care ask for the
// same resources while consents and blocks change.
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/audit/access_log.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/fhir_api.h"
#include "carehub/services/http_server.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/disclosure.h"
#include "services/fhir/testing/http_client.h"

namespace carehub::services {
namespace {

using fhir::testing::kHospitalHsaId;
using fhir::testing::kKommunHslHsaId;
using fhir::testing::kRegionHsaId;
using fhir::testing::kVardcentralHsaId;
using fhir_api::PatientDisclosure;
using fhir_api::Reader;
using fhir_api::Verdict;
using Json = nlohmann::json;
using testing::TestHttpClient;
using Response = TestHttpClient::Response;

constexpr char kOutsider[] = "SE2321000016-E000000000077";  // a provider outside her care
const absl::Time kNow = absl::FromUnixSeconds(1772400000);  // 2026-03-01T21:20:00Z

std::string OrgRef(const std::string& hsa) {
  return absl::StrCat(R"({"reference":"Organization/x","type":"Organization",)",
                      R"("identifier":{"system":"urn:oid:1.2.752.29.4.19","value":")", hsa,
                      R"("}})");
}
std::string Permit(const std::string& status, const std::string& period,
                   const std::string& recipient) {
  return absl::StrCat(R"({"resourceType":"Consent","status":")", status,
                      R"(","provision":{"type":"permit","period":)", period,
                      R"(,"actor":[{"reference":)", OrgRef(recipient), "}]}}");
}
std::string Block(const std::string& owner, const std::vector<std::string>& from) {
  std::string actors;
  for (const std::string& hsa : from) {
    absl::StrAppend(&actors, actors.empty() ? "" : ",", R"({"reference":)", OrgRef(hsa), "}");
  }
  return absl::StrCat(R"({"resourceType":"Consent","status":"active","organization":[)",
                      OrgRef(owner), R"(],"provision":{"type":"deny",)",
                      R"("period":{"start":"2026-03-01T00:00:00.000Z"})",
                      actors.empty() ? "" : absl::StrCat(R"(,"actor":[)", actors, "]"), "}}");
}

// The region's hospital stay, the municipality's home visit (sent by the owner itself).
const fhir::DataOwner kStay{.organization = kRegionHsaId, .unit = kHospitalHsaId};
const fhir::DataOwner kVisit{.organization = kKommunHslHsaId};
const Reader kHospital{.organization = kRegionHsaId, .unit = kHospitalHsaId};
const Reader kVardcentral{.organization = kRegionHsaId, .unit = kVardcentralHsaId};
const Reader kRegionOnly{.organization = kRegionHsaId};
const Reader kKommun{.organization = kKommunHslHsaId};
const Reader kOutsiderOrg{.organization = kOutsider};
const std::string kSince = R"({"start":"2026-03-01T00:00:00.000Z"})";

TEST(PatientDisclosureTest, OwnRecordAndSharedResourcesAreAlwaysShown) {
  PatientDisclosure none = PatientDisclosure::FromConsents({}, kNow);
  EXPECT_EQ(none.Check(kStay, kHospital), Verdict::kShown);
  EXPECT_EQ(none.Check(kStay, kVardcentral), Verdict::kShown) << "another unit of the owner";
  EXPECT_EQ(none.Check(kStay, kRegionOnly), Verdict::kShown);
  EXPECT_EQ(none.Check({}, kOutsiderOrg), Verdict::kShown) << "shared";
  EXPECT_EQ(none.Check(kStay, kKommun), Verdict::kNoConsent);
  EXPECT_EQ(none.Check(kVisit, kHospital), Verdict::kNoConsent);
  EXPECT_EQ(none.Check(kStay, Reader{}), Verdict::kNoConsent);
}

TEST(PatientDisclosureTest, AnActiveConsentNamesWhoMayReadOtherOwnersRecords) {
  PatientDisclosure d =
      PatientDisclosure::FromConsents({Permit("active", kSince, kKommunHslHsaId)}, kNow);
  EXPECT_EQ(d.Check(kStay, kKommun), Verdict::kShown);
  EXPECT_EQ(d.Check(kStay, kOutsiderOrg), Verdict::kNoConsent);
  EXPECT_EQ(d.Check(kVisit, kHospital), Verdict::kNoConsent) << "a consent is one way";
  // Withdrawn, not yet begun, or expired: no consent.
  for (const std::string& consent :
       {Permit("inactive", kSince, kKommunHslHsaId),
        Permit("active", R"({"start":"2026-03-02T00:00:00.000Z"})", kKommunHslHsaId),
        Permit("active", R"({"start":"2026-02-01T00:00:00Z","end":"2026-03-01T21:20:00Z"})",
               kKommunHslHsaId)}) {
    EXPECT_EQ(PatientDisclosure::FromConsents({consent}, kNow).Check(kStay, kKommun),
              Verdict::kNoConsent)
        << consent;
  }
}

TEST(PatientDisclosureTest, ABlockOfTheOwnersRecordWinsOverAConsent) {
  const std::string consent = Permit("active", kSince, kKommunHslHsaId);
  // Against the municipality only.
  PatientDisclosure d =
      PatientDisclosure::FromConsents({consent, Block(kRegionHsaId, {kKommunHslHsaId})}, kNow);
  EXPECT_EQ(d.Check(kStay, kKommun), Verdict::kBlocked);
  EXPECT_EQ(d.Check(kStay, kVardcentral), Verdict::kShown) << "within the owner";
  EXPECT_EQ(d.Check(kVisit, kHospital), Verdict::kNoConsent) << "another owner's record";
  // Against every other organisation (no actors).
  PatientDisclosure all = PatientDisclosure::FromConsents({consent, Block(kRegionHsaId, {})}, kNow);
  EXPECT_EQ(all.Check(kStay, kKommun), Verdict::kBlocked);
  EXPECT_EQ(all.Check(kStay, kOutsiderOrg), Verdict::kBlocked);
  EXPECT_EQ(all.Check(kStay, kRegionOnly), Verdict::kShown);
}

TEST(PatientDisclosureTest, ABlockOfOneCareUnitsRecordClosesItToTheOtherUnits) {
  const std::string consent = Permit("active", kSince, kKommunHslHsaId);
  // Inre spärr: the hospital's record, from every other unit, within the region and outside it.
  PatientDisclosure d = PatientDisclosure::FromConsents({consent, Block(kHospitalHsaId, {})}, kNow);
  EXPECT_EQ(d.Check(kStay, kHospital), Verdict::kShown);
  EXPECT_EQ(d.Check(kStay, kVardcentral), Verdict::kBlocked);
  EXPECT_EQ(d.Check(kStay, kRegionOnly), Verdict::kBlocked) << "a reader that names no unit";
  EXPECT_EQ(d.Check(kStay, kKommun), Verdict::kBlocked);
  EXPECT_EQ(d.Check(kVisit, kKommun), Verdict::kShown) << "another owner's record is not closed";
  // Only from the units (or organisations) it names.
  PatientDisclosure named = PatientDisclosure::FromConsents(
      {consent, Block(kHospitalHsaId, {kVardcentralHsaId})}, kNow);
  EXPECT_EQ(named.Check(kStay, kVardcentral), Verdict::kBlocked);
  EXPECT_EQ(named.Check(kStay, kRegionOnly), Verdict::kShown);
  EXPECT_EQ(named.Check(kStay, kKommun), Verdict::kShown);
}

TEST(PatientDisclosureTest, WhatCannotBeReadWithholdsRatherThanShows) {
  const std::string consent = Permit("active", kSince, kKommunHslHsaId);
  for (const std::string& bad :
       {std::string("{not json"), std::string(R"({"resourceType":"Consent","status":"active"})"),
        std::string(R"({"resourceType":"Consent","status":"active","provision":{"type":"deny"}})"),
        std::string(R"({"resourceType":"Consent","status":"active","organization":[{"identifier":)"
                    R"({"system":"urn:oid:2.5.4.97","value":"2321000131"}}],)"
                    R"("provision":{"type":"deny"}})"),
        Permit("active", R"({"start":"yesterday"})", kKommunHslHsaId)}) {
    PatientDisclosure d = PatientDisclosure::FromConsents({consent, bad}, kNow);
    EXPECT_EQ(d.Check(kStay, kKommun), Verdict::kBlocked) << bad;
    EXPECT_EQ(d.Check(kStay, kVardcentral), Verdict::kBlocked) << bad;
    EXPECT_EQ(d.Check(kStay, kHospital), Verdict::kShown) << bad;
    EXPECT_EQ(d.Check(kVisit, kKommun), Verdict::kShown) << bad;
  }
  // Not all of the patient's consents were given: one left out might be a block.
  EXPECT_EQ(PatientDisclosure::FromConsents({consent}, kNow, /*complete=*/false)
                .Check(kStay, kKommun),
            Verdict::kBlocked);
}

constexpr char kScenarioPatient[] = "7f3c2a10-aaaa-4bbb-8ccc-0123456789ab";

class FhirDisclosureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = fhir::testing::ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_->AppendAll(fhir::testing::MartaScenario(kScenarioPatient,
                                                             fhir::testing::ScenarioStart()))
                    .ok());
    auto model = fhir::ReadModel::Open({.path = dir_.File("fhir")});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    ASSERT_TRUE(fhir::testing::ProjectLog(log_->store(), *model_).ok());
    auto access = audit::AccessLog::Open({.path = dir_.File("access-log")});
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = *std::move(access);
    api_ = std::make_unique<FhirApi>(model_.get(), FhirApi::Options{.access_log = access_.get()});
    server_ = std::make_unique<HttpServer>(api_.get(),
                                           HttpServerOptions{.address = "127.0.0.1:0",
                                                               .access_log = false});
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<TestHttpClient>(*port);
  }

  // GET as `organization` and its care `unit` (both "": an anonymous request).
  Response Get(const std::string& target, const std::string& organization,
               const std::string& unit = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!organization.empty()) headers.emplace_back("X-Carehub-Organization", organization);
    if (!unit.empty()) headers.emplace_back("X-Carehub-Care-Unit", unit);
    return client_->Send("GET", target, headers);
  }
  int Status(const std::string& target, const std::string& organization,
             const std::string& unit = "") {
    return Get(target, organization, unit).status;
  }
  // Appends a care event of Märta's and projects it.
  void Record(int seq, const std::function<void(care::v1::CareEvent&)>& fill) {
    care::v1::CareEvent e = fhir::testing::Envelope(
        kScenarioPatient, seq, fhir::testing::ScenarioStart() + absl::Hours(24 * 30));
    fill(e);
    ASSERT_TRUE(log_->Append(e).ok());
    ASSERT_TRUE(fhir::testing::ProjectLog(log_->store(), *model_).ok());
  }

  // Märta blocks the region's record; `scope` narrows it (a unit, the readers kept out).
  void BlockRegionsRecord(int seq, const std::string& block_id,
                          const std::function<void(care::v1::RecordBlocked&)>& scope) {
    Record(seq, [&](care::v1::CareEvent& e) {
      care::v1::RecordBlocked* b = e.mutable_record_blocked();
      b->set_block_id(block_id);
      b->mutable_blocked_owner()->set_kind(care::v1::DATA_OWNER_KIND_REGION);
      b->mutable_blocked_owner()->set_organisation_hsa_id(kRegionHsaId);
      scope(*b);
    });
  }

  static std::string Stay() {
    return "/fhir/Encounter/" +
           fhir::ResourceId("stay", absl::StrCat(kScenarioPatient, "|1.2.752.97.3.1.1|V-",
                                                 kScenarioPatient));
  }
  static std::string Visit() {
    return "/fhir/Encounter/" +
           fhir::ResourceId("home-visit", absl::StrCat(kScenarioPatient, "-visit-1"));
  }
  static std::string Patient() { return fhir::ResourceId("Patient", kScenarioPatient); }
  // The ids of a Bundle's resources of `type`.
  static std::vector<std::string> Ids(const Json& bundle, const std::string& type) {
    std::vector<std::string> ids;
    for (const Json& entry : bundle.value("entry", Json::array())) {
      if (entry["resource"]["resourceType"] == type) ids.push_back(entry["resource"]["id"]);
    }
    return ids;
  }
  // The Provenances of a Bundle, by id, with their targets' types.
  static std::map<std::string, std::set<std::string>> Provenances(const Json& bundle) {
    std::map<std::string, std::set<std::string>> out;
    for (const Json& entry : bundle.value("entry", Json::array())) {
      const Json& r = entry["resource"];
      if (r["resourceType"] != "Provenance") continue;
      std::set<std::string>& types = out[r["id"]];
      for (const Json& t : r["target"]) {
        const std::string ref = t["reference"];
        types.insert(ref.substr(0, ref.find('/')));
      }
    }
    return out;
  }
  static std::string Outcome(const Json& bundle) {
    for (const Json& entry : bundle.value("entry", Json::array())) {
      if (entry["search"]["mode"] == "outcome") return entry["resource"].dump();
    }
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<fhir::testing::ScenarioLog> log_;
  std::unique_ptr<fhir::ReadModel> model_;
  std::unique_ptr<audit::AccessLog> access_;
  std::unique_ptr<FhirApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<TestHttpClient> client_;
};

TEST_F(FhirDisclosureTest, ReadsShowOtherOwnersRecordsOnlyWithConsent) {
  // Märta consented to the municipality reading the region's record, not the other way round.
  EXPECT_EQ(Status(Stay(), kRegionHsaId), 200);
  EXPECT_EQ(Status(Stay(), kKommunHslHsaId), 200);
  EXPECT_EQ(Status(Visit(), kKommunHslHsaId), 200);
  Response r = Get(Visit(), kRegionHsaId);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find(R"("code":"forbidden")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(absl::StrCat("the record of ", kKommunHslHsaId, " is not disclosed to ",
                                     kRegionHsaId, ": the patient has given no consent")),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("home"), std::string::npos) << "no content of the withheld resource";
  EXPECT_EQ(Status(Stay(), kOutsider), 403);
  // Its versions and history are withheld alike; a conditional read does not confirm a version.
  EXPECT_EQ(Status(Visit() + "/_history/1", kRegionHsaId), 403);
  EXPECT_EQ(Status(Visit() + "/_history", kRegionHsaId), 403);
  r = client_->Send("GET", Visit(),
                    {{"X-Carehub-Organization", kRegionHsaId}, {"If-None-Match", "W/\"1\""}});
  EXPECT_EQ(r.status, 403);
  // The shared plan is everyone's; anonymous requests are not checked.
  EXPECT_EQ(Status("/fhir/CarePlan?patient=" + Patient(), kOutsider), 200);
  EXPECT_EQ(Status(Visit(), ""), 200);
  EXPECT_EQ(Status(Stay(), ""), 200);
}

TEST_F(FhirDisclosureTest, SearchesAndEverythingLeaveOutWhatIsWithheldAndSaySo) {
  Response r = Get("/fhir/Encounter?patient=" + Patient(), kRegionHsaId);
  ASSERT_EQ(r.status, 200) << r.body;
  Json bundle = Json::parse(r.body);
  const std::string stay_id = Stay().substr(std::string("/fhir/Encounter/").size());
  EXPECT_EQ(Ids(bundle, "Encounter"), std::vector<std::string>{stay_id});
  EXPECT_FALSE(bundle.contains("total")) << "a total would count what is withheld";
  const std::string outcome = Outcome(bundle);
  EXPECT_NE(outcome.find(R"("code":"suppressed")"), std::string::npos) << outcome;
  EXPECT_NE(outcome.find(absl::StrCat("1 resource withheld: the record of ", kKommunHslHsaId)),
            std::string::npos)
      << outcome;
  // The municipality sees both; nothing is said to be withheld.
  bundle = Json::parse(Get("/fhir/Encounter?patient=" + Patient(), kKommunHslHsaId).body);
  EXPECT_EQ(Ids(bundle, "Encounter").size(), 2u);
  EXPECT_EQ(Outcome(bundle), "");

  // Someone outside her care gets the shared plan, team and tasks, none of the owned records.
  r = Get("/fhir/Patient/" + Patient() + "/$everything?_count=1000", kOutsider);
  ASSERT_EQ(r.status, 200) << r.body;
  bundle = Json::parse(r.body);
  EXPECT_EQ(Ids(bundle, "CarePlan").size(), 1u);
  EXPECT_EQ(Ids(bundle, "CareTeam").size(), 1u);
  EXPECT_TRUE(Ids(bundle, "Encounter").empty());
  EXPECT_TRUE(Ids(bundle, "Flag").empty());
  EXPECT_NE(Outcome(bundle).find(absl::StrCat("the record of ", kRegionHsaId)), std::string::npos);
  EXPECT_NE(Outcome(bundle).find(absl::StrCat("the record of ", kKommunHslHsaId)),
            std::string::npos);

  // The access log records what was disclosed, not what was withheld.
  auto entries = access_->Find({.agent = std::string(kRegionHsaId)});
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->entries.size(), 1u);
  const std::vector<audit::AccessedResource>& held = entries->entries[0].resources;
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].id, stay_id);

  // Counts count what the reader may see, and only when they can (not across unread pages).
  EXPECT_EQ(Json::parse(Get("/fhir/Encounter?patient=" + Patient() + "&_summary=count",
                            kRegionHsaId).body)["total"],
            1);
  EXPECT_EQ(Json::parse(Get("/fhir/Encounter?patient=" + Patient() + "&_summary=count", "").body)
                ["total"],
            2);
  bundle = Json::parse(
      Get("/fhir/Encounter?patient=" + Patient() + "&_count=1", kKommunHslHsaId).body);
  EXPECT_FALSE(bundle.contains("total")) << bundle.dump();
}

TEST_F(FhirDisclosureTest, ABlockWithholdsDespiteTheConsentUntilItIsLifted) {
  ASSERT_EQ(Status(Stay(), kKommunHslHsaId), 200);
  BlockRegionsRecord(901, "block-1", [](care::v1::RecordBlocked& b) {
    b.add_blocked_from()->set_hsa_id(kKommunHslHsaId);
  });
  Response r = Get(Stay(), kKommunHslHsaId);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("the patient has blocked it (spärr)"), std::string::npos) << r.body;
  EXPECT_EQ(Status(Stay(), kRegionHsaId), 200) << "the owner reads its own record";
  EXPECT_EQ(Status(Visit(), kKommunHslHsaId), 200) << "the block closes the region's record only";

  Record(902, [](care::v1::CareEvent& e) {
    e.mutable_record_unblocked()->set_block_id("block-1");
  });
  EXPECT_EQ(Status(Stay(), kKommunHslHsaId), 200);

  Record(903, [](care::v1::CareEvent& e) {
    e.mutable_consent_withdrawn()->set_consent_id(absl::StrCat(kScenarioPatient, "-consent"));
  });
  r = Get(Stay(), kKommunHslHsaId);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("no consent"), std::string::npos) << r.body;
}

TEST_F(FhirDisclosureTest, AProvenanceIsWithheldWithTheRecordItNames) {
  const std::string changes =
      "/fhir/CarePlan?patient=" + Patient() + "&_revinclude=Provenance:target";
  const auto all = Provenances(Json::parse(Get(changes, "").body));
  size_t naming_owned = 0;
  for (const auto& [id, types] : all) {
    naming_owned += types.count("Encounter") + types.count("Flag");
  }
  ASSERT_GT(naming_owned, 0u) << "the admission changes the plan and opens the stay";
  // The municipality may read the region's record: it sees every change of the plan.
  EXPECT_EQ(Provenances(Json::parse(Get(changes, kKommunHslHsaId).body)), all);
  // Someone outside her care sees the changes that touched nothing but the shared resources.
  Response r = Get(changes, kOutsider);
  const Json bundle = Json::parse(r.body);
  const auto outsider = Provenances(bundle);
  EXPECT_FALSE(outsider.empty());
  EXPECT_LT(outsider.size(), all.size());
  for (const auto& [id, types] : outsider) {
    EXPECT_EQ(types.count("Encounter") + types.count("Flag"), 0u) << id;
  }
  EXPECT_NE(Outcome(bundle).find("withheld: the record of"), std::string::npos) << r.body;
}

TEST_F(FhirDisclosureTest, ABlockOfTheHospitalsRecordClosesItToOtherCareUnits) {
  BlockRegionsRecord(904, "block-hospital", [](care::v1::RecordBlocked& b) {
    b.mutable_blocked_unit()->set_hsa_id(kHospitalHsaId);
  });
  EXPECT_EQ(Status(Stay(), kRegionHsaId, kHospitalHsaId), 200);
  Response r = Get(Stay(), kRegionHsaId, kVardcentralHsaId);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find(absl::StrCat("the record of ", kRegionHsaId, " (care unit ", kHospitalHsaId,
                                     ") is not disclosed to ", kRegionHsaId, " (care unit ",
                                     kVardcentralHsaId, "): the patient has blocked it")),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Status(Stay(), kKommunHslHsaId), 403) << "nor outside the region, despite the consent";
  EXPECT_EQ(Status(Visit(), kKommunHslHsaId), 200);
}

}  // namespace
}  // namespace carehub::services
