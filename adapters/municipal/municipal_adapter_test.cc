// MunicipalAdapter as carehubd runs it: over the gRPC server's in-process channel to the care
// service, with its HTTP endpoint on a real socket and its drop directory on disk.
#include "carehub/municipal/municipal_adapter.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/municipal/testing/municipal_fixture.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/fhir/testing/http_client.h"

namespace carehub::municipal {
namespace {

namespace fs = std::filesystem;
using services::testing::TestHttpClient;
using testing::JsonRecord;
using testing::kTolvan;

class MunicipalAdapterTest : public testing::MunicipalFixture {};

TEST_F(MunicipalAdapterTest, InProcessChannelHttpAndDropDirectory) {
  Enrol(kTolvan);
  MunicipalAdapter adapter(server_->InProcessChannel(),
                           {.root = dir_.File("municipal"),
                            .http_address = "127.0.0.1:0",
                            .source_system = "treserva-test",
                            .poll_interval = absl::Milliseconds(20),
                            .clock = &clock_});
  ASSERT_TRUE(adapter.Start().ok());
  EXPECT_EQ(adapter.Start().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_GT(adapter.http_port(), 0);

  const std::string body = absl::StrCat(JsonRecord("insats_planerad", "m-1"),
                                        R"(,"activity_id":"act"})", "\n");
  {
    TestHttpClient client(adapter.http_port());
    TestHttpClient::Response r = client.Send("POST", "/municipal/v1/import",
                                             {{"Content-Type", "application/x-ndjson"}}, body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["accepted"], 1) << r.body;
  }
  {
    std::ofstream out(dir_.File("municipal/inbox/.m.jsonl"));
    out << body << absl::StrCat(JsonRecord("insats_paborjad", "m-2"), R"(,"activity_id":"act"})",
                                "\n");
  }
  fs::rename(dir_.File("municipal/inbox/.m.jsonl"), dir_.File("municipal/inbox/m.jsonl"));
  for (int i = 0; i < 1000 && !fs::exists(dir_.File("municipal/done/m.jsonl")); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  adapter.Stop();
  EXPECT_TRUE(fs::exists(dir_.File("municipal/done/m.jsonl")));
}

TEST_F(MunicipalAdapterTest, StartErrors) {
  MunicipalAdapter no_root(server_->InProcessChannel(), {.http_address = ""});
  EXPECT_EQ(no_root.Start().code(), absl::StatusCode::kInvalidArgument);
  MunicipalAdapter no_system(server_->InProcessChannel(),
                             {.root = dir_.File("m"), .http_address = "", .source_system = ""});
  EXPECT_EQ(no_system.Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carehub::municipal
