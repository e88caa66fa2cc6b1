// The HTTP endpoint over a real socket (HttpServer on 127.0.0.1:0) against a real care service.
#include "carehub/municipal/import_http.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/municipal/testing/municipal_fixture.h"
#include "carehub/services/http_server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/testing/http_client.h"

namespace carehub::municipal {
namespace {

using services::testing::TestHttpClient;
using testing::JsonRecord;
using testing::kTolvan;

class ImportHttpTest : public testing::MunicipalFixture {
 protected:
  void SetUp() override {
    MunicipalFixture::SetUp();
    handler_ = std::make_unique<ImportHttpHandler>(importer_.get());
    http_ = std::make_unique<services::HttpServer>(
        handler_.get(), services::HttpServerOptions{.address = "127.0.0.1:0",
                                                    .max_body_bytes = 4096,
                                                    .access_log = false});
    absl::StatusOr<int> port = http_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<TestHttpClient>(*port);
  }
  void TearDown() override {
    client_.reset();
    http_->Stop(absl::Seconds(5));
    MunicipalFixture::TearDown();
  }

  TestHttpClient::Response Post(const std::string& content_type, const std::string& body) {
    return client_->Send("POST", kImportPath, {{"Content-Type", content_type}}, body);
  }

  std::unique_ptr<ImportHttpHandler> handler_;
  std::unique_ptr<services::HttpServer> http_;
  std::unique_ptr<TestHttpClient> client_;
};

TEST_F(ImportHttpTest, PostsJsonLinesAndGetsPerLineResults) {
  Enrol(kTolvan);
  const std::string body = absl::StrCat(
      JsonRecord("insats_planerad", "h-1"), R"(,"activity_id":"act"})", "\n",
      JsonRecord("insats_paborjad", "h-2"), "}\n");
  TestHttpClient::Response r = Post("application/x-ndjson", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  nlohmann::json json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["format"], "carehub-municipal/1");
  EXPECT_EQ(json["lines"], 2);
  EXPECT_EQ(json["accepted"], 1);
  EXPECT_EQ(json["rejected"], 1);
  EXPECT_EQ(json["results"][0],
            nlohmann::json({{"line", 1}, {"record_id", "h-1"}, {"status", "accepted"}}));
  EXPECT_EQ(json["results"][1]["line"], 2);
  EXPECT_EQ(json["results"][1]["status"], "rejected");
  EXPECT_EQ(json["results"][1]["reason"], "activity_id: required");

  // The same body again: nothing new.
  r = Post("application/x-ndjson", body);
  json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["accepted"], 0);
  EXPECT_EQ(json["already_imported"], 1);
  EXPECT_EQ(json["results"][0]["status"], "already-imported");
}

TEST_F(ImportHttpTest, CsvCharsetParameter) {
  Enrol(kTolvan);
  const std::string csv =
      "format,record_type,record_id,personnummer,owner,occurred_at,activity_id,description\r\n"
      "carehub-municipal/1,insats_planerad,hc-1,19121212-1212,HSL,2026-11-18 08:00,a,"
      "\"Omv\xE5rdnad, s\xE5roml\xE4ggning\"\r\n";
  TestHttpClient::Response r = Post("text/csv; charset=ISO-8859-1", csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["accepted"], 1);

  // The same bytes declared UTF-8: the line is rejected as not UTF-8, and says so.
  r = Post("text/csv; charset=utf-8", csv);
  ASSERT_EQ(r.status, 200) << r.body;
  const nlohmann::json json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["rejected"], 1);
  EXPECT_EQ(json["results"][0]["reason"], "column \"description\": not valid UTF-8");
}

TEST_F(ImportHttpTest, RequestErrors) {
  EXPECT_EQ(Post("application/json", "{}").status, 415);
  EXPECT_EQ(Post("text/csv; charset=utf-16", "a;b\n").status, 415);
  EXPECT_EQ(Post("application/x-ndjson; charset=windows-1252", "{}").status, 415);
  TestHttpClient::Response empty = Post("text/csv", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(empty.body.find("empty"), std::string::npos);
  EXPECT_EQ(client_->Send("GET", kImportPath).status, 405);
  EXPECT_EQ(client_->Send("POST", "/other", {{"Content-Type", "text/csv"}}, "a;b").status, 404);
  TestHttpClient::Response large = Post("text/csv", std::string(8192, 'x'));
  EXPECT_EQ(large.status, 413);
}

}  // namespace
}  // namespace carehub::municipal
