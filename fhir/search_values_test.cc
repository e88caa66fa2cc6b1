// The pieces search semantics rest on: the FHIRPath subset, date ranges of partial dates,
// accent- and case-folding, token and reference extraction, and the parameter table itself.
#include <string>
#include <vector>

#include "carehub/fhir/search.h"
#include "fhir/internal/search_index.h"
#include "fhir/internal/search_path.h"
#include "fhir/internal/search_query.h"
#include "fhir/internal/search_values.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace carehub::fhir::internal {
namespace {

using Json = nlohmann::json;

int64_t At(const char* text) { return ParseDateRange(text)->low; }

TEST(SearchDefinitionsTest, EveryWrittenTypeIsServedAndEveryExpressionCompiles) {
  for (const std::string& type : testing::ResourceTypes()) {
    const ResourceSearchDef* def = FindSearchDefinition(type);
    ASSERT_NE(def, nullptr) << type;
    EXPECT_NE(FindSearchParam(*def, "_id"), nullptr) << type;
    EXPECT_NE(FindSearchParam(*def, "_lastUpdated"), nullptr) << type;
    for (const SearchParamDef& p : def->params) {
      EXPECT_TRUE(SearchPath::Compile(p.expression).ok()) << type << "." << p.name;
      EXPECT_EQ(p.expression.substr(0, type.size()) == type ||
                    p.expression.substr(1, type.size()) == type,
                true)
          << p.expression;
      EXPECT_EQ(p.definition.rfind("http://hl7.org/fhir/SearchParameter/", 0), 0u);
      EXPECT_EQ(p.type == SearchParamType::kReference, !p.targets.empty()) << type << "." << p.name;
    }
    for (std::string_view sort : def->sorts) {
      const SearchParamDef* p = FindSearchParam(*def, sort);
      ASSERT_NE(p, nullptr) << sort;
      EXPECT_TRUE(p->name == "_id" || p->type == SearchParamType::kDate) << sort;
    }
    for (const auto* list : {&def->includes, &def->revincludes}) {
      for (std::string_view inc : *list) {
        const size_t colon = inc.find(':');
        const ResourceSearchDef* source = FindSearchDefinition(inc.substr(0, colon));
        ASSERT_NE(source, nullptr) << inc;
        const SearchParamDef* p = FindSearchParam(*source, inc.substr(colon + 1));
        ASSERT_NE(p, nullptr) << inc;
        EXPECT_EQ(p->type, SearchParamType::kReference) << inc;
      }
    }
  }
  const std::vector<ResourceSearchDef>& defs = SearchDefinitions();
  EXPECT_EQ(defs.size(), testing::ResourceTypes().size());
  EXPECT_EQ(FindSearchDefinition("Nonsense"), nullptr);
  // The parameters the API promises.
  for (const char* name : {"patient", "subject", "status", "intent", "category", "date",
                           "care-team", "goal", "activity-date", "encounter"}) {
    EXPECT_NE(FindSearchParam(*FindSearchDefinition("CarePlan"), name), nullptr) << name;
  }
  for (const char* name : {"identifier", "name", "family", "given", "birthdate", "gender"}) {
    EXPECT_NE(FindSearchParam(*FindSearchDefinition("Patient"), name), nullptr) << name;
  }
  for (const char* name : {"patient", "status", "owner", "code", "period"}) {
    EXPECT_NE(FindSearchParam(*FindSearchDefinition("Task"), name), nullptr) << name;
  }
}

TEST(SearchPathTest, FieldsArraysChoicesWhereAndAs) {
  Json obs = Json::parse(R"({"resourceType":"Observation","subject":{"reference":"Patient/p1"},
    "performer":[{"reference":"Patient/p1"},{"reference":"http://x/fhir/Practitioner/d1/_history/2"}],
    "effectivePeriod":{"start":"2026-03-01"},"valueString":"låg",
    "telecom":[{"system":"email","value":"a@b"},{"system":"phone","value":"1"}]})");
  std::vector<const Json*> out;
  SearchPath::Compile("Observation.performer.where(resolve() is Practitioner)")->Evaluate(obs, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ((*out[0])["reference"], "http://x/fhir/Practitioner/d1/_history/2");
  out.clear();
  SearchPath::Compile("Observation.effective")->Evaluate(obs, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0]->contains("start"));
  out.clear();
  SearchPath::Compile("(Observation.value as string) | (Observation.value as CodeableConcept).text")
      ->Evaluate(obs, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0], "låg");
  out.clear();
  SearchPath::Compile("Observation.telecom.where(system='email')")->Evaluate(obs, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ((*out[0])["value"], "a@b");
  // Goal.status must not visit statusDate: only listed choice elements expand.
  Json goal = Json::parse(R"({"statusDate":"2026-01-01"})");
  out.clear();
  SearchPath::Compile("Goal.status")->Evaluate(goal, out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(SearchPath::Compile("Patient.deceased.exists() and Patient.deceased != false").ok());
  EXPECT_EQ(NormalizeReference("http://x/fhir/Practitioner/d1/_history/2"), "Practitioner/d1");
  EXPECT_EQ(NormalizeReference("#contained"), "");
}

TEST(SearchValuesTest, PartialDatesAreRanges) {
  EXPECT_EQ(ParseDateRange("2026")->low, At("2026-01-01T00:00:00Z"));
  EXPECT_EQ(ParseDateRange("2026")->high, At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(ParseDateRange("2026-02")->high, At("2026-03-01"));
  EXPECT_EQ(ParseDateRange("2026-12-31")->high, At("2027-01-01"));
  EXPECT_EQ(ParseDateRange("2026-03-01T02:10:00.000Z")->high - At("2026-03-01T02:10:00Z"), 1000);
  EXPECT_EQ(ParseDateRange("2026-03-01T02:10:00+01:00")->low, At("2026-03-01T01:10:00Z"));
  EXPECT_EQ(ParseDateRange("2026-03-01T02:10")->high, At("2026-03-01T02:11:00Z"));
  for (const char* bad : {"", "20", "2026-13", "2026-02-30", "2026-03-01T25:00", "2026-03-01X",
                          "2026-03-01T02:10:00+1", "yesterday"}) {
    EXPECT_FALSE(ParseDateRange(bad).has_value()) << bad;
  }
}

TEST(SearchValuesTest, StringsFoldCaseAndAccents) {
  EXPECT_EQ(NormalizeForSearch("Åsa Öberg-Älmhult"), "asa oberg-almhult");
  EXPECT_EQ(NormalizeForSearch("TOLVANSSON"), "tolvansson");
  EXPECT_EQ(NormalizeForSearch("A\xCC\x8A"), "a");  // decomposed Å
  EXPECT_EQ(NormalizeForSearch("Ærø"), "ærø");      // no decomposition: only lower case
}

TEST(SearchValuesTest, TokensOfCodingsIdentifiersAndCodes) {
  std::vector<Token> tokens;
  AppendTokens(Json::parse(R"({"coding":[{"system":"s","code":"a"},{"code":"b"}],"text":"t"})"),
               tokens);
  AppendTokens(Json::parse(R"({"system":"pnr","value":"191212121212"})"), tokens);
  AppendTokens(Json("active"), tokens);
  AppendTokens(Json(true), tokens);
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(*tokens[0].system, "s");
  EXPECT_EQ(*tokens[1].system, "");
  EXPECT_EQ(tokens[2].code, "191212121212");
  EXPECT_FALSE(tokens[3].system.has_value());
  EXPECT_EQ(tokens[4].code, "true");
}

TEST(SearchQueryTest, DatePrefixes) {
  Json task = Json::parse(
      R"({"executionPeriod":{"start":"2026-03-03T10:00:00Z","end":"2026-03-03T14:00:00Z"}})");
  auto match = [&](const char* value) {
    std::string why;
    auto c = ParseCriterion("Task", "period", value, &why);
    EXPECT_TRUE(c.ok() && c->has_value()) << value;
    return Matches(**c, task);
  };
  EXPECT_TRUE(match("2026-03-03"));
  EXPECT_TRUE(match("eq2026-03"));
  EXPECT_FALSE(match("2026-03-03T10:00"));
  EXPECT_TRUE(match("ne2026-03-04"));
  EXPECT_TRUE(match("gt2026-03-03T12:00:00Z"));
  EXPECT_FALSE(match("gt2026-03-03"));
  EXPECT_TRUE(match("lt2026-03-03T12:00:00Z"));
  EXPECT_TRUE(match("ge2026-03-03"));
  EXPECT_TRUE(match("le2026-03-03"));
  EXPECT_FALSE(match("le2026-03-02"));
  EXPECT_TRUE(match("sa2026-03-02"));
  EXPECT_FALSE(match("sa2026-03-03"));
  EXPECT_TRUE(match("eb2026-03-04"));
  EXPECT_TRUE(match("ap2026-03-03T11:00:00Z"));
  EXPECT_TRUE(match("2025,2026"));  // OR
  std::string why;
  EXPECT_EQ(ParseCriterion("Task", "period", "xx2026", &why).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCriterion("Task", "period", "2026-02-30", &why).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseCriterion("Task", "period:exact", "2026", &why)->has_value());
  EXPECT_FALSE(ParseCriterion("Task", "nonsense", "1", &why)->has_value());
  EXPECT_FALSE(ParseCriterion("Task", "patient.name", "x", &why)->has_value());
}

TEST(SearchIndexTest, KeysOfAPlan) {
  Json plan = Json::parse(R"({"resourceType":"CarePlan","id":"p","status":"active",
    "subject":{"reference":"Patient/abc"},"careTeam":[{"reference":"CareTeam/t"}],
    "category":[{"coding":[{"system":"s","code":"sip"}]}]})");
  std::vector<std::string> keys = SearchIndexKeys("CarePlan", "p", plan);
  auto has = [&](std::string param, std::string entry) {
    std::string key = IndexPrefix("CarePlan", param, entry);
    key.push_back('\0');
    key.append("p");
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  EXPECT_TRUE(has("patient", ReferenceEntry("Patient/abc")));
  EXPECT_TRUE(has("subject", ReferenceEntry("Patient/abc")));
  EXPECT_TRUE(has("care-team", ReferenceEntry("CareTeam/t")));
  EXPECT_TRUE(has("status", TokenEntry("", "active")));
  EXPECT_TRUE(has("category", TokenEntry("s", "sip")));
  EXPECT_FALSE(has("_id", TokenEntry("", "p")));
  // One entry per value: patient, subject, care-team, status, category.
  EXPECT_EQ(keys.size(), 5u);

  // The projection hands the writer its own ordered document: the same keys, without a parse.
  const nlohmann::ordered_json built = nlohmann::ordered_json::parse(plan.dump());
  std::vector<std::string> from_built = SearchIndexKeys("CarePlan", "p", built);
  std::sort(keys.begin(), keys.end());
  std::sort(from_built.begin(), from_built.end());
  EXPECT_EQ(from_built, keys);
}

}  // namespace
}  // namespace carehub::fhir::internal
