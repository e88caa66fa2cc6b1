// Searcher over resources projected from care events: the index agrees with the stored JSON after
// every event (stale entries of replaced versions are gone), the spec's semantics on the scenario's
// data, includes, sorting, paging pinned to a snapshot, cursor expiry, lenient and strict
// handling, history and $everything, and the rebuild of a model of an older schema.
#include "carehub/fhir/search.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/clock.h"
#include "carehub/care/v1/events.pb.h"
#include "carehub/fhir/read_model.h"
#include "carehub/services/testing/temp_dir.h"
#include "fhir/internal/search_index.h"
#include "fhir/internal/search_query.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"

namespace carehub::fhir {
namespace {

using Json = nlohmann::json;
using services::testing::TempDir;
using testing::ScenarioStart;

constexpr char kMarta[] = "3f2c9a52-7d1e-4c1b-9a0e-5b8f0c6d2e11";
constexpr char kArne[] = "7a1b0c2d-0000-4000-8000-000000000002";

std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

SearchParams ParseQuery(std::string_view query) {
  SearchParams params;
  if (query.empty()) return params;
  for (absl::string_view part : absl::StrSplit(absl::string_view(query.data(), query.size()), '&')) {
    const size_t eq = part.find('=');
    params.emplace_back(Decode(std::string_view(part.data(), eq)),
                        Decode(std::string_view(part.data() + eq + 1, part.size() - eq - 1)));
  }
  return params;
}

std::string IdOf(const std::string& json) { return Json::parse(json)["id"]; }

std::set<std::string> Ids(const std::vector<std::string>& resources) {
  std::set<std::string> ids;
  for (const std::string& r : resources) ids.insert(IdOf(r));
  return ids;
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = testing::ScenarioLog::Open(dir_.File("log"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    auto model = ReadModel::Open({.path = dir_.File("fhir"), .sync = false});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    searcher_ = std::make_unique<Searcher>(
        model_.get(), Searcher::Options{.cursor_ttl = absl::Minutes(10), .max_cursors = 4,
                                        .clock = &clock_});
  }

  void LoadScenario() {
    ASSERT_TRUE(log_->AppendAll(testing::MartaScenario(kMarta, ScenarioStart())).ok());
    ASSERT_TRUE(log_->AppendAll(testing::MartaScenario(kArne, ScenarioStart())).ok());
    care::v1::CareEvent names = testing::Envelope(kMarta, 900, ScenarioStart());
    names.mutable_demographics_updated()->set_family_name("Tolvansson");
    names.mutable_demographics_updated()->add_given_names("Tolvan");
    names.mutable_demographics_updated()->add_given_names("Åsa");
    ASSERT_TRUE(log_->Append(names).ok());
    ASSERT_TRUE(testing::ProjectLog(log_->store(), *model_).ok());
  }

  SearchPage Search(std::string_view type, const SearchParams& params, bool strict = false) {
    auto page = searcher_->Search(type, params, {.strict = strict});
    EXPECT_TRUE(page.ok()) << type << ": " << page.status();
    return page.ok() ? *std::move(page) : SearchPage{};
  }

  std::set<std::string> Find(std::string_view type, const SearchParams& params) {
    SearchParams all = params;
    all.emplace_back("_count", "1000");
    return Ids(Search(type, all).matches);
  }

  // The ids of `type` whose stored JSON matches: the scan the index must agree with.
  std::set<std::string> Scan(std::string_view type, std::string_view name,
                             std::string_view value) {
    std::string why;
    auto criterion = internal::ParseCriterion(type, name, value, &why);
    EXPECT_TRUE(criterion.ok() && criterion->has_value()) << name << "=" << value << " " << why;
    std::set<std::string> ids;
    const std::vector<std::string> all = *model_->ListByType(type);
    for (const std::string& json : all) {
      if (internal::Matches(**criterion, Json::parse(json))) ids.insert(IdOf(json));
    }
    return ids;
  }

  static std::string PatientId(const char* p) { return ResourceId("Patient", p); }
  static std::string PlanId(const char* p) { return ResourceId("CarePlan", absl::StrCat(p, "-plan")); }
  static std::string TeamId(const char* p) { return ResourceId("CareTeam", absl::StrCat(p, "-team")); }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<testing::ScenarioLog> log_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<Searcher> searcher_;
};

// Every token and reference value present in the data, searched through the index, finds exactly
// the resources whose JSON holds it; checked after every event, so entries of replaced versions
// (a plan that was "draft" and is "active" now) must have been deleted.
TEST_F(SearchTest, IndexAgreesWithTheJsonAfterEveryEvent) {
  std::vector<care::v1::CareEvent> events = testing::MartaScenario(kMarta, ScenarioStart());
  size_t checked = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    auto recorded = log_->Append(events[i]);
    ASSERT_TRUE(recorded.ok());
    ASSERT_TRUE(testing::ProjectInto(*model_, *recorded).ok());
    if (i % 4 != 3 && i + 1 != events.size()) continue;  // every fourth event keeps it quick
    for (const std::string& type : testing::ResourceTypes()) {
      for (const internal::CompiledParam& p : internal::CompiledParams(type)) {
        if (p.def->type != SearchParamType::kToken && p.def->type != SearchParamType::kReference) {
          continue;
        }
        std::set<std::string> values;
        const std::vector<std::string> all = *model_->ListByType(type);
        for (const std::string& json : all) {
          std::vector<const Json*> nodes;
          Json parsed = Json::parse(json);
          p.path.Evaluate(parsed, nodes);
          for (const Json* n : nodes) {
            std::vector<internal::Token> tokens;
            std::vector<std::string> refs;
            internal::AppendTokens(*n, tokens);
            internal::AppendReferences(*n, refs);
            for (const auto& t : tokens) {
              values.insert(t.code);
              values.insert(absl::StrCat(t.system.value_or(""), "|", t.code));
              if (t.system.has_value()) values.insert(absl::StrCat(*t.system, "|"));
            }
            for (const auto& r : refs) {
              values.insert(r);
              values.insert(r.substr(r.find('/') + 1));
            }
          }
        }
        values.insert("draft");  // present earlier in the log, absent later
        for (const std::string& v : values) {
          std::string escaped;
          for (char c : v) {
            if (c == ',') escaped.push_back('\\');
            escaped.push_back(c);
          }
          EXPECT_EQ(Find(type, {{std::string(p.def->name), escaped}}),
                    Scan(type, p.def->name, escaped))
              << type << "?" << p.def->name << "=" << v << " after event " << i;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 500u);
}

TEST_F(SearchTest, PatientScopedSearchesAndIncludes) {
  LoadScenario();
  const std::string marta = PatientId(kMarta);
  EXPECT_EQ(Find("CarePlan", {{"patient", marta}}), std::set<std::string>{PlanId(kMarta)});
  EXPECT_EQ(Find("CarePlan", {{"patient", "Patient/" + marta}}),
            std::set<std::string>{PlanId(kMarta)});
  EXPECT_EQ(Find("CarePlan", {{"subject:Patient", marta}}), std::set<std::string>{PlanId(kMarta)});
  EXPECT_EQ(Find("CarePlan", {{"patient", "https://other.example/fhir/Patient/" + marta}}),
            std::set<std::string>{PlanId(kMarta)});
  EXPECT_EQ(Find("CarePlan", {{"patient", marta + "," + PatientId(kArne)}}).size(), 2u);
  EXPECT_TRUE(Find("CarePlan", {{"patient", "Patient/none"}}).empty());
  EXPECT_EQ(Find("CareTeam", {{"patient", marta}}), std::set<std::string>{TeamId(kMarta)});

  SearchPage page = Search("CarePlan", {{"patient", marta}, {"_include", "CarePlan:care-team"}});
  ASSERT_EQ(page.matches.size(), 1u);
  EXPECT_EQ(*page.total, 1u);
  EXPECT_EQ(Ids(page.includes), std::set<std::string>{TeamId(kMarta)});

  page = Search("CarePlan", {{"patient", marta},
                             {"_include", "CarePlan:goal"},
                             {"_revinclude", "Provenance:target"}});
  size_t goals = 0, provenances = 0;
  for (const std::string& json : page.includes) {
    const std::string type = Json::parse(json)["resourceType"];
    goals += type == "Goal";
    provenances += type == "Provenance";
  }
  EXPECT_EQ(goals, 2u);
  // One Provenance per version of the plan.
  EXPECT_EQ(provenances,
            std::stoul(Json::parse(page.matches[0])["meta"]["versionId"].get<std::string>()));
  page = Search("CareTeam", {{"_id", TeamId(kMarta)}, {"_include", "CareTeam:participant"}});
  EXPECT_EQ(page.includes.size(), 2u);  // two practitioners; the daughter has no reference
}

TEST_F(SearchTest, TokenStringAndDateSemantics) {
  LoadScenario();
  const std::string hub = "https://carehub.se/fhir/CodeSystem/carehub";
  EXPECT_EQ(Find("CarePlan", {{"category", hub + "|sip"}}).size(), 2u);
  EXPECT_EQ(Find("CarePlan", {{"category", "sip"}}).size(), 2u);
  EXPECT_TRUE(Find("CarePlan", {{"category", "http://other|sip"}}).empty());
  EXPECT_EQ(Find("CarePlan", {{"category", hub + "|"}}).size(), 2u);
  EXPECT_TRUE(Find("CarePlan", {{"status:not", "active"}, {"patient", PatientId(kMarta)}}).empty());
  EXPECT_EQ(Find("Encounter", {{"class", "IMP"}, {"patient", PatientId(kArne)}}).size(), 1u);
  EXPECT_EQ(Find("Patient", {{"identifier", "http://electronichealth.se/identifier/personnummer|"
                                            "191212121212"}})
                .size(),
            2u);
  // Strings: starts-with, case and accents folded; :exact and :contains.
  const std::set<std::string> marta{PatientId(kMarta)};
  EXPECT_EQ(Find("Patient", {{"name", "tolv"}}), marta);
  EXPECT_EQ(Find("Patient", {{"family", "TOLVANSSON"}}), marta);
  EXPECT_EQ(Find("Patient", {{"given", "asa"}}), marta);
  EXPECT_EQ(Find("Patient", {{"given:exact", "Åsa"}}), marta);
  EXPECT_TRUE(Find("Patient", {{"given:exact", "asa"}}).empty());
  EXPECT_EQ(Find("Patient", {{"family:contains", "vans"}}), marta);
  EXPECT_TRUE(Find("Patient", {{"family", "vans"}}).empty());
  EXPECT_EQ(Find("Patient", {{"name:missing", "true"}}), std::set<std::string>{PatientId(kArne)});
  EXPECT_EQ(Find("Patient", {{"birthdate", "1912-12-12"}}).size(), 2u);
  EXPECT_EQ(Find("Patient", {{"birthdate", "1912"}, {"gender", "male"}}).size(), 2u);
  // Dates: the plans started ten days before the admission on 2026-03-01.
  const std::string plan = PlanId(kMarta);
  EXPECT_EQ(Find("CarePlan", {{"date", "2026-02"}, {"_id", plan}}), std::set<std::string>{});
  EXPECT_EQ(Find("CarePlan", {{"date", "ge2026-02"}, {"_id", plan}}), std::set<std::string>{plan});
  EXPECT_EQ(Find("CarePlan", {{"date", "sa2026-02-18"}, {"_id", plan}}), std::set<std::string>{plan});
  EXPECT_TRUE(Find("CarePlan", {{"date", "sa2026-02-19"}, {"_id", plan}}).empty());
  // AND of repeated parameters.
  EXPECT_TRUE(Find("CarePlan", {{"date", "gt2026-02-01"}, {"date", "lt2026-01-01"},
                                {"_id", plan}}).empty());
  EXPECT_EQ(Find("CarePlan", {{"_lastUpdated", "2026"}}).size(), 2u);
  EXPECT_TRUE(Find("CarePlan", {{"_lastUpdated", "lt2026"}}).empty());
}

TEST_F(SearchTest, SortTotalsSummaryAndHandling) {
  LoadScenario();
  SearchPage page = Search("Provenance", {{"_sort", "-_lastUpdated"}, {"_count", "500"}});
  ASSERT_GT(page.matches.size(), 10u);
  for (size_t i = 1; i < page.matches.size(); ++i) {
    EXPECT_GE(Json::parse(page.matches[i - 1])["meta"]["lastUpdated"].get<std::string>(),
              Json::parse(page.matches[i])["meta"]["lastUpdated"].get<std::string>());
  }
  page = Search("Provenance", {{"_summary", "count"}});
  EXPECT_TRUE(page.matches.empty());
  EXPECT_GT(*page.total, 10u);

  page = Search("CarePlan", {{"nonsense", "1"}, {"status", "active"}, {"_sort", "title"}});
  EXPECT_EQ(page.ignored.size(), 2u);
  EXPECT_EQ(page.self_params, "status=active");
  auto strict = searcher_->Search("CarePlan", {{"nonsense", "1"}}, {.strict = true});
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  for (const auto& [name, value] : SearchParams{{"date", "2026-02-30"},
                                                {"_count", "-1"},
                                                {"status:missing", "maybe"},
                                                {"_include", "CarePlan"},
                                                {"_summary", "everything"},
                                                {"patient", "Patient/"}}) {
    EXPECT_EQ(searcher_->Search("CarePlan", {{name, value}}, {}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name << "=" << value;
  }
  EXPECT_EQ(searcher_->Search("Nonsense", {}, {}).status().code(), absl::StatusCode::kNotFound);
}

// Pages after the first come from the first page's snapshot: events projected between page
// requests change neither the total nor which resources the pages hold.
TEST_F(SearchTest, PagingIsPinnedToASnapshotAndCursorsExpire) {
  LoadScenario();
  SearchPage first = Search("Provenance", {{"_count", "7"}});
  const size_t total = *first.total;
  std::vector<std::string> seen = first.matches;
  ASSERT_FALSE(first.next_params.empty());
  EXPECT_TRUE(first.previous_params.empty());
  // More events arrive: a third patient.
  ASSERT_TRUE(log_->AppendAll(testing::MartaScenario("third", ScenarioStart())).ok());
  ASSERT_TRUE(testing::ProjectLog(log_->store(), *model_).ok());
  EXPECT_GT(*Search("Provenance", {{"_summary", "count"}}).total, total);
  std::string next = first.next_params;
  SearchPage last;
  while (!next.empty()) {
    clock_.Advance(absl::Minutes(5));  // within the TTL of each use
    last = Search("Provenance", ParseQuery(next));
    EXPECT_EQ(*last.total, total);
    seen.insert(seen.end(), last.matches.begin(), last.matches.end());
    next = last.next_params;
  }
  EXPECT_EQ(seen.size(), total);
  EXPECT_EQ(Ids(seen).size(), total);
  SearchPage back = Search("Provenance", ParseQuery(last.previous_params));
  EXPECT_EQ(back.matches.size(), 7u);

  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(searcher_->Search("Provenance", ParseQuery(first.next_params), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(searcher_->Search("Provenance", {{"_cursor", "0123"}, {"_offset", "7"}}, {})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Beyond max_cursors the least recently used cursor goes.
  std::vector<std::string> links;
  for (int i = 0; i < 5; ++i) links.push_back(Search("Provenance", {{"_count", "1"}}).next_params);
  EXPECT_EQ(searcher_->Search("Provenance", ParseQuery(links[0]), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(searcher_->Search("Provenance", ParseQuery(links[4]), {}).ok());
}

TEST_F(SearchTest, HistoryOfAnInstanceAndOfAType) {
  LoadScenario();
  const std::string plan = PlanId(kMarta);
  auto history = searcher_->History("CarePlan", plan, {}, {});
  ASSERT_TRUE(history.ok()) << history.status();
  const size_t versions = history->matches.size();
  ASSERT_GT(versions, 3u);
  EXPECT_EQ(Json::parse(history->matches[0])["meta"]["versionId"], std::to_string(versions));
  const std::string v3_time = Json::parse(*model_->VRead("CarePlan", plan, 3))["meta"]["lastUpdated"];
  history = searcher_->History("CarePlan", plan, {{"_since", v3_time}}, {});
  EXPECT_EQ(history->matches.size(), versions - 2);
  history = searcher_->History("CarePlan", plan, {{"_at", v3_time}}, {});
  ASSERT_EQ(history->matches.size(), 1u);
  EXPECT_EQ(Json::parse(history->matches[0])["meta"]["versionId"], "3");
  EXPECT_EQ(searcher_->History("CarePlan", "none", {}, {}).status().code(),
            absl::StatusCode::kNotFound);

  // Type history: newest first, paged through a cursor, every version once.
  auto page = searcher_->History("CarePlan", "", {{"_count", "5"}}, {});
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<std::string> all = page->matches;
  std::string next = page->next_params;
  while (!next.empty()) {
    auto more = searcher_->History("CarePlan", "", ParseQuery(next), {});
    ASSERT_TRUE(more.ok()) << more.status();
    all.insert(all.end(), more->matches.begin(), more->matches.end());
    next = more->next_params;
  }
  EXPECT_EQ(all.size(), 2 * versions);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GE(Json::parse(all[i - 1])["meta"]["lastUpdated"].get<std::string>(),
              Json::parse(all[i])["meta"]["lastUpdated"].get<std::string>());
  }
  auto since = searcher_->History("CarePlan", "", {{"_since", v3_time}}, {});
  ASSERT_TRUE(since.ok());
  for (const std::string& json : since->matches) {
    EXPECT_GE(Json::parse(json)["meta"]["lastUpdated"].get<std::string>(), v3_time);
  }
  auto at = searcher_->History("CarePlan", "", {{"_at", v3_time}}, {});
  ASSERT_TRUE(at.ok());
  // Arne's events were all logged after Märta's: only her plan existed then, in version 3.
  ASSERT_EQ(at->matches.size(), 1u);
  EXPECT_EQ(Json::parse(at->matches[0])["meta"]["versionId"], "3");
  EXPECT_EQ(IdOf(at->matches[0]), plan);
}

TEST_F(SearchTest, EverythingOfAPatient) {
  LoadScenario();
  auto page = searcher_->Everything(PatientId(kMarta), {{"_count", "1000"}}, {});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(IdOf(page->matches[0]), PatientId(kMarta));
  std::map<std::string, int> types;
  for (const std::string& json : page->matches) {
    Json r = Json::parse(json);
    ++types[r["resourceType"]];
    if (r["resourceType"] == "Patient") continue;
    EXPECT_NE(json.find("Patient/" + PatientId(kMarta)), std::string::npos) << json;
  }
  for (const char* t : {"CarePlan", "CareTeam", "Encounter", "Task", "Goal", "Observation",
                        "Consent"}) {
    EXPECT_GT(types[t], 0) << t;
  }
  auto only = searcher_->Everything(PatientId(kMarta), {{"_type", "Goal"}}, {});
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->matches.size(), 2u);
  EXPECT_EQ(searcher_->Everything("none", {}, {}).status().code(), absl::StatusCode::kNotFound);
}

// A model written before the search index existed is cleared on Open and rebuilt from the log.
TEST_F(SearchTest, OlderSchemaIsClearedAndRebuilt) {
  LoadScenario();
  model_.reset();
  {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, dir_.File("fhir"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.File("fhir"), families, &handles, &db).ok());
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == "meta") {
        ASSERT_TRUE(db->Delete({}, h, "schema").ok());
      }
      db->DestroyColumnFamilyHandle(h);
    }
    delete db;
  }
  auto reopened = ReadModel::Open({.path = dir_.File("fhir")});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  model_ = *std::move(reopened);
  EXPECT_EQ(*model_->Checkpoint(), 0u);
  EXPECT_TRUE(model_->ListByType("CarePlan")->empty());
  searcher_ = std::make_unique<Searcher>(model_.get(), Searcher::Options{});
  ASSERT_TRUE(testing::ProjectLog(log_->store(), *model_).ok());
  EXPECT_EQ(Find("CarePlan", {{"patient", PatientId(kMarta)}}),
            std::set<std::string>{PlanId(kMarta)});
}

}  // namespace
}  // namespace carehub::fhir
