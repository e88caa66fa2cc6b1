#include "tests/e2e/hub_processes.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/fhir/testing/http_client.h"

namespace carehub::e2e {

using services::testing::ReadFileOrEmpty;
using services::testing::TestHttpClient;

constexpr char kHubCodeSystem[] = "https://carehub.se/fhir/CodeSystem/carehub";

std::unique_ptr<ServerProcess> StartServer(const std::string& binary,
                                           std::vector<std::string> args, const TempDir& dir,
                                           const std::string& name, int* port,
                                           const std::string& port_flag) {
  const std::string port_file = dir.File(name + ".port");
  const std::string log = dir.File(name + ".log");
  args.push_back(port_flag + "=" + port_file);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(binary, args, log);
  EXPECT_TRUE(server.ok()) << name << ": " << server.status();
  if (!server.ok()) return nullptr;
  absl::StatusOr<int> bound = (*server)->WaitForPortFile(port_file, absl::Seconds(60));
  EXPECT_TRUE(bound.ok()) << name << ": " << bound.status() << "\n" << ReadFileOrEmpty(log);
  if (!bound.ok()) return nullptr;
  *port = *bound;
  return *std::move(server);
}

void StopCleanly(ServerProcess& server, const std::string& name) {
  EXPECT_EQ(server.StopCleanly(), absl::OkStatus()) << name;
}

std::string TestPersonnummer(const std::string& yyyymmdd, const std::string& serial) {
  const std::string nine = yyyymmdd.substr(2) + serial;
  int sum = 0;
  for (size_t i = 0; i < nine.size(); ++i) {
    const int d = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return absl::StrCat(yyyymmdd, "-", serial, std::string(1, static_cast<char>('0' + (10 - sum % 10) % 10)));
}

absl::Time Stockholm(int year, int month, int day, int hour, int minute) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0), zone);
}

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

FhirClient::Response FhirClient::Get(const std::string& target) const {
  Response response;
  try {
    TestHttpClient client(port_);
    TestHttpClient::Response r =
        client.Send("GET", target, {{"Accept", "application/fhir+json"}, {"Connection", "close"}});
    response.status = r.status;
    response.body = std::move(r.body);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "GET " << target << ": " << e.what();
  }
  return response;
}

absl::Status FhirClient::WaitUntilProjected(uint64_t position, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    const Response r = Get("/health");
    last = r.body;
    if (r.status == 200) {
      const Json health = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (health.is_object() && health.value("checkpoint", uint64_t{0}) > position) {
        return absl::OkStatus();
      }
    }
    // The projector is another process: nothing to wait on but its answer.
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("position ", position, " not projected; last /health: ", last));
}

Json FhirClient::Read(const std::string& type, const std::string& id) const {
  const Response r = Get(absl::StrCat("/fhir/", type, "/", id));
  EXPECT_EQ(r.status, 200) << type << "/" << id << ": " << r.body;
  if (r.status != 200) return Json::object();
  return Json::parse(r.body);
}

std::vector<Json> FhirClient::History(const std::string& type, const std::string& id) const {
  std::vector<Json> versions = SearchAll(absl::StrCat(type, "/", id, "/_history"));
  std::reverse(versions.begin(), versions.end());  // a history Bundle is newest first
  return versions;
}

std::vector<Json> FhirClient::SearchAll(const std::string& query) const {
  std::vector<Json> resources;
  std::string target = absl::StrCat("/fhir/", query);
  for (int page = 0; page < 100 && !target.empty(); ++page) {
    const Response r = Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    if (r.status != 200) break;
    const Json bundle = Json::parse(r.body);
    for (const Json& entry : bundle.value("entry", Json::array())) {
      if (!entry.contains("resource")) continue;
      // Searches report unknown parameters in an OperationOutcome entry: not a result.
      if (entry.contains("search") && entry["search"].value("mode", "") == "outcome") continue;
      resources.push_back(entry["resource"]);
    }
    target.clear();
    for (const Json& link : bundle.value("link", Json::array())) {
      if (link.value("relation", "") != "next") continue;
      const std::string url = link.value("url", "");
      const size_t path = url.find("/fhir/");
      if (path != std::string::npos) target = url.substr(path);
    }
  }
  return resources;
}

Json FhirClient::PatientByPersonnummer(const std::string& personnummer) const {
  const std::string digits = absl::StrReplaceAll(personnummer, {{"-", ""}, {"+", ""}});
  const std::vector<Json> found = SearchAll(absl::StrCat(
      "Patient?identifier=http://electronichealth.se/identifier/personnummer%7C", digits));
  EXPECT_EQ(found.size(), 1u) << "patients with the personnummer";
  return found.empty() ? Json::object() : found.front();
}

CareClient::CareClient(int grpc_port)
    : stub_(care::v1::CareService::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials()))) {}

absl::StatusOr<care::v1::CommandResponse> CareClient::Execute(
    const care::v1::CommandRequest& command) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  care::v1::CommandResponse response;
  const grpc::Status status = stub_->Execute(&context, command, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat(command.command_id(), ": ", status.error_message()));
  }
  return response;
}

absl::StatusOr<care::v1::CheckDeadlinesResponse> CareClient::CheckDeadlines(absl::Time now) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  care::v1::CheckDeadlinesRequest request;
  *request.mutable_now() = Proto(now);
  care::v1::CheckDeadlinesResponse response;
  const grpc::Status status = stub_->CheckDeadlines(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response;
}

std::vector<std::string> Identifiers(const Json& resource) {
  std::vector<std::string> out;
  for (const Json& id : resource.value("identifier", Json::array())) {
    out.push_back(absl::StrCat(id.value("system", ""), "|", id.value("value", "")));
  }
  return out;
}

std::vector<Json> OfType(const std::vector<Json>& resources, const std::string& type) {
  std::vector<Json> out;
  for (const Json& r : resources) {
    if (r.value("resourceType", "") == type) out.push_back(r);
  }
  return out;
}

std::vector<Json> WithHubCode(const std::vector<Json>& resources, const std::string& code) {
  std::vector<Json> out;
  auto has = [&](const Json& codeable) {
    for (const Json& coding : codeable.value("coding", Json::array())) {
      if (coding.value("system", "") == kHubCodeSystem && coding.value("code", "") == code) {
        return true;
      }
    }
    return false;
  };
  for (const Json& r : resources) {
    bool match = r.contains("code") && has(r["code"]);
    for (const Json& category : r.value("category", Json::array())) match = match || has(category);
    if (match) out.push_back(r);
  }
  return out;
}

}  // namespace carehub::e2e
