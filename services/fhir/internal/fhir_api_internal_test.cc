// Unit tests of the FHIR API's text handling: query decoding, content negotiation, dates and
// subsetting.
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/internal/request_text.h"
#include "services/fhir/internal/subset.h"

namespace carehub::services::fhir_api {
namespace {

TEST(ParseQueryTest, DecodesFormEncoding) {
  auto params = ParseQuery("identifier=http%3A%2F%2Fx%7C19121212-1212&name=Tolvan+T&&flag");
  ASSERT_TRUE(params.ok());
  ASSERT_EQ(params->size(), 3u);
  EXPECT_EQ((*params)[0].second, "http://x|19121212-1212");
  EXPECT_EQ((*params)[1].second, "Tolvan T");
  EXPECT_EQ((*params)[2].first, "flag");
  EXPECT_FALSE(ParseQuery("a=%4").ok());
  EXPECT_FALSE(ParseQuery("=x").ok());
  EXPECT_EQ(QueryEscape("a b|c"), "a%20b%7Cc");
}

TEST(NegotiateTest, JsonOnly) {
  EXPECT_TRUE(Negotiate("", std::nullopt).acceptable);
  EXPECT_EQ(Negotiate("application/json", std::nullopt).content_type,
            "application/json;charset=utf-8");
  EXPECT_EQ(Negotiate("application/json, application/fhir+json", std::nullopt).content_type,
            "application/fhir+json;charset=utf-8");
  EXPECT_FALSE(Negotiate("application/fhir+xml", std::nullopt).acceptable);
  EXPECT_FALSE(Negotiate("application/fhir+json;q=0", std::nullopt).acceptable);
  EXPECT_TRUE(Negotiate("application/fhir+xml", std::string("json")).acceptable);
  EXPECT_FALSE(Negotiate("", std::string("ttl")).acceptable);
  EXPECT_TRUE(Negotiate("", std::string("application/fhir+json")).acceptable);
}

TEST(HttpDateTest, RoundTrips) {
  const absl::Time t = absl::FromUnixSeconds(1772331000);
  EXPECT_EQ(HttpDate(t), "Sun, 01 Mar 2026 02:10:00 GMT");
  EXPECT_EQ(ParseHttpDate(HttpDate(t)), t);
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
  EXPECT_EQ(ParseInstant("2026-03-01T02:10:00.000Z"), t);
}

TEST(SubsetTest, ElementsKeepMandatoryAndTagSubsetted) {
  auto spec = ParseSubset(std::nullopt, std::string("Observation.value[x],note"));
  ASSERT_TRUE(spec.ok());
  nlohmann::json out = nlohmann::json::parse(RenderResource(
      R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},)"
      R"("valueQuantity":{"value":1},"note":[{"text":"n"}],"subject":{"reference":"Patient/p"}})",
      *spec, false));
  EXPECT_TRUE(out.contains("status"));  // mandatory
  EXPECT_TRUE(out.contains("code"));    // mandatory
  EXPECT_TRUE(out.contains("valueQuantity"));
  EXPECT_TRUE(out.contains("note"));
  EXPECT_FALSE(out.contains("subject"));
  EXPECT_EQ(out["meta"]["tag"][0]["code"], "SUBSETTED");
  auto summary = ParseSubset(std::string("data"), std::nullopt);
  ASSERT_TRUE(summary.ok());
  nlohmann::json data = nlohmann::json::parse(RenderResource(
      R"({"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div/>"}})", *summary,
      false));
  EXPECT_FALSE(data.contains("text"));
}

}  // namespace
}  // namespace carehub::services::fhir_api
