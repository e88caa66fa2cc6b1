// What the end-to-end tests share: the hub's binaries started as separate processes on port 0 in a
// temp dir, a FHIR REST client over real HTTP, a CareService client over real gRPC, and a runner
// for command-line tools.
//
//   TempDir dir;
//   int store_port = 0;
//   auto store = StartServer(CAREHUB_EVENTSTORE_PATH, {"--data_dir=" + dir.File("hub/eventstore")},
//                            dir, "eventstore", &store_port);
//   ...
//   FhirClient fhir(http_port);
//   ASSERT_TRUE(fhir.WaitUntilProjected(response.last_position()).ok());
//   nlohmann::json plan = fhir.Read("CarePlan", id);
//
// Every helper reports a failure with gtest (EXPECT_*) and returns an empty value rather than
// aborting, so a test can show the server logs that explain it. Time values are Swedish local
// time where a person would say them ("Monday 16 November 02:30").
//
// Thread-compatible: one client per thread.
#ifndef CAREHUB_TESTS_E2E_HUB_PROCESSES_H_
#define CAREHUB_TESTS_E2E_HUB_PROCESSES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/services/testing/server_process.h"
#include "carehub/services/testing/temp_dir.h"
#include "nlohmann/json.hpp"

namespace carehub::e2e {

using Json = nlohmann::json;
using services::testing::ProcessRun;
using services::testing::RunProcess;
using services::testing::ServerProcess;
using services::testing::TempDir;

// Starts `binary args... <port_flag>=<dir>/<name>.port` with its output in <dir>/<name>.log and
// waits (60 s) for the port file. nullptr (and a test failure) if it does not come up.
// `port_flag` is the binary's port-file flag ("--port_file", "--http_port_file").
std::unique_ptr<ServerProcess> StartServer(const std::string& binary,
                                           std::vector<std::string> args, const TempDir& dir,
                                           const std::string& name, int* port,
                                           const std::string& port_flag = "--port_file");

// SIGTERM, then expects a clean exit (code 0) within 60 s.
void StopCleanly(ServerProcess& server, const std::string& name);

// A personnummer in Skatteverket's test series with its Luhn check digit computed here,
// independently of the hub: "YYYYMMDD-NNNC".
std::string TestPersonnummer(const std::string& yyyymmdd, const std::string& serial);

// A civil time in Europe/Stockholm.
absl::Time Stockholm(int year, int month, int day, int hour, int minute = 0);
google::protobuf::Timestamp Proto(absl::Time t);
// RFC 3339 in UTC with microseconds, as the hub writes instants.
std::string Rfc3339(absl::Time t);

// The FHIR REST API of a running carehub-fhir or carehubd, over real HTTP (one request per
// connection, as a simple client does).
class FhirClient {
 public:
  explicit FhirClient(int http_port) : port_(http_port) {}

  // GET `target` (e.g. "/fhir/CarePlan?patient=..."): the status and the body.
  struct Response {
    int status = 0;
    std::string body;
  };
  Response Get(const std::string& target) const;

  // Polls GET /health until the projector's checkpoint has passed `position` (the read model holds
  // every event up to it) and the server says ready. DeadlineExceeded after `timeout`.
  absl::Status WaitUntilProjected(uint64_t position,
                                  absl::Duration timeout = absl::Seconds(60)) const;

  // GET /fhir/<type>/<id>, parsed; an empty object (and a test failure) unless 200.
  Json Read(const std::string& type, const std::string& id) const;
  // GET /fhir/<type>/<id>/_history, oldest version first.
  std::vector<Json> History(const std::string& type, const std::string& id) const;
  // Every resource a search (or $everything) returns, following `next` links.
  // `query` is the part after "/fhir/", e.g. "Task?patient=Patient/abc".
  std::vector<Json> SearchAll(const std::string& query) const;
  // The Patient with this personnummer (searched by identifier), or an empty object.
  Json PatientByPersonnummer(const std::string& personnummer) const;

 private:
  int port_;
};

// carehub.care.v1.CareService over real gRPC.
class CareClient {
 public:
  explicit CareClient(int grpc_port);

  absl::StatusOr<care::v1::CommandResponse> Execute(const care::v1::CommandRequest& command);
  absl::StatusOr<care::v1::CheckDeadlinesResponse> CheckDeadlines(absl::Time now);

 private:
  std::unique_ptr<care::v1::CareService::Stub> stub_;
};

// "system|value" of each identifier of a resource.
std::vector<std::string> Identifiers(const Json& resource);
// The resources of `type` among `resources`.
std::vector<Json> OfType(const std::vector<Json>& resources, const std::string& type);
// The resources whose code (Task.code, Communication.category) is the hub concept `code`.
std::vector<Json> WithHubCode(const std::vector<Json>& resources, const std::string& code);

}  // namespace carehub::e2e

#endif  // CAREHUB_TESTS_E2E_HUB_PROCESSES_H_
