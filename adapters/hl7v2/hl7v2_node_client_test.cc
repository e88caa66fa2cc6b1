// The daemon as operators run it: carehub-hl7v2 in its own process, talking gRPC to a real care
// service, receiving ADT from a third-party MLLP client (node-hl7-client, pinned in
// tests/hl7v2/package.json); then the dead-letter CLI lists and re-submits what was rejected.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "carehub/fhir/projection.h"
#include "carehub/fhir/read_model.h"
#include "carehub/hl7v2/mllp_client.h"
#include "carehub/services/testing/server_process.h"
#include "fhir/testing/care_events.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/care/testing/care_service_fixture.h"

namespace carehub::hl7v2 {
namespace {

namespace v1 = care::v1;
using Json = nlohmann::json;

std::string Adt(const std::string& trigger, const std::string& id, const std::string& visit,
                const std::string& name, const std::string& charset = "UNICODE UTF-8",
                const std::string& pv1_tail = "") {
  return absl::StrCat(
      "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|20261125233000||ADT^", trigger, "^ADT_A01|",
      id, "|P|2.5|||||SE|", charset, "\rEVN|", trigger, "|20261125233000\r",
      "PID|1||555^^^HOSP^MR~191212121212^^^SKV&1.2.752.129.2.1.3.1&ISO^PN||", name,
      "||19121212|M\r", "PV1|1|I|MAVA3^12^2||||||||||||||||", visit, "^^^COSMIC", pv1_tail, "\r");
}

// Runs a command and returns its stdout and exit status.
std::pair<std::string, int> RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

class NodeClientTest : public services::testing::CareServiceFixture {
 protected:
  NodeClientTest()
      : CareServiceFixture(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 22, 0, 0),
                                           absl::UTCTimeZone()),
                           /*seed=*/5) {}
};

TEST_F(NodeClientTest, AdtFromNodeHl7ClientThroughTheDaemon) {
  const std::string facilities = dir_.File("facilities.conf");
  std::ofstream(facilities)
      << "facility=SE2321000131 owner_hsa_id=SE2321000131-E000000000001 "
         "time_zone=Europe/Stockholm personnummer_authority=SKV,1.2.752.129.2.1.3.1\n";
  const std::string data_dir = dir_.File("data");
  const std::string port_file = dir_.File("hl7v2.port");
  absl::StatusOr<std::unique_ptr<services::testing::ServerProcess>> daemon =
      services::testing::ServerProcess::Start(
          CAREHUB_HL7V2_PATH,
          {absl::StrCat("--care_address=127.0.0.1:", server_->port()),
           "--mllp_address=127.0.0.1:0", "--data_dir=" + data_dir, "--facilities=" + facilities,
           "--port_file=" + port_file},
          dir_.File("hl7v2.log"));
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  absl::StatusOr<int> port = (*daemon)->WaitForPortFile(port_file, absl::Seconds(60));
  ASSERT_TRUE(port.ok()) << port.status();

  // Latin-1 "Öberg" reaches the script as the code points U+00D6 ..., sent as one byte each.
  Json messages = Json::array();
  auto add = [&](std::string text, const char* encoding = "utf-8") {
    messages.push_back({{"text", std::move(text)}, {"encoding", encoding}});
  };
  add(Adt("A01", "N1", "V1", "Tolvansson^Tolvan"));
  add(Adt("A02", "N2", "V1", "Tolvansson^Tolvan"));
  add(Adt("A08", "N3", "V1", "\xC3\x96" "berg^Tolvan", "8859/1"), "latin1");
  add(Adt("A03", "N4", "V1", "Tolvansson^Tolvan"));
  add(Adt("A03", "N4", "V1", "Tolvansson^Tolvan"));  // resent: AA again, no second event
  add(Adt("A99", "N5", "V1", "Tolvansson^Tolvan"));  // unsupported: AR
  add(Adt("A03", "N6", "V404", "Tolvansson^Tolvan"));  // unknown stay: AE
  const std::string input = dir_.File("input.json");
  std::ofstream(input) << Json{{"port", *port}, {"messages", messages}}.dump();

  auto [out, rc] = RunCommand(absl::StrCat(NODE_PATH, " ", HL7V2_NODE_SCRIPT, " ", input));
  ASSERT_EQ(rc, 0) << out;
  const Json acks = Json::parse(out);
  std::vector<std::string> codes;
  for (const Json& a : acks) codes.push_back(a["msa1"]);
  EXPECT_EQ(codes, (std::vector<std::string>{"AA", "AA", "AA", "AA", "AA", "AR", "AE"}));
  EXPECT_EQ(acks[5]["msa2"], "N5");
  EXPECT_NE(acks[6]["err8"].get<std::string>(), "");

  // What the log holds: one admission, one transfer, one discharge; the Latin-1 name as UTF-8.
  grpc::ClientContext context;
  v1::ResolvePatientRequest resolve;
  resolve.mutable_identifier()->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  resolve.mutable_identifier()->set_value("191212121212");
  v1::ResolvePatientResponse patient;
  ASSERT_TRUE(stub_->ResolvePatient(&context, resolve, &patient).ok());
  auto stream = store_->ReadStream({.stream_id = "patient-" + patient.patient_id()});
  ASSERT_TRUE(stream.ok());
  int admitted = 0, transferred = 0, discharged = 0;
  std::string family;
  for (const auto& r : *stream) {
    v1::CareEvent e;
    e.ParseFromString(r.data);
    admitted += e.has_inpatient_admitted();
    transferred += e.has_inpatient_transferred();
    discharged += e.has_inpatient_discharged();
    if (e.has_demographics_updated()) family = e.demographics_updated().family_name();
  }
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(transferred, 1);
  EXPECT_EQ(discharged, 1);
  EXPECT_EQ(family, "\xC3\x96" "berg");

  // And in FHIR: the stay is a finished inpatient Encounter.
  auto model = fhir::ReadModel::Open({.path = dir_.File("fhir")});
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE(fhir::testing::ProjectLog(*store_, **model).ok());
  auto encounter = (*model)->Read(
      "Encounter", fhir::ResourceId("stay", absl::StrCat(patient.patient_id(), "|COSMIC|V1")));
  ASSERT_TRUE(encounter.ok()) << encounter.status();
  EXPECT_EQ(Json::parse(*encounter)["status"], "finished");

  // The dead-letter CLI: two letters; after the admission arrives, the AE one re-submits.
  const std::string cli = absl::StrCat(CAREHUB_HL7V2_DEADLETTERS_PATH, " --data_dir=", data_dir,
                                       " --mllp_address=127.0.0.1:", *port);
  auto [listed, list_rc] = RunCommand(cli + " list");
  ASSERT_EQ(list_rc, 0);
  std::vector<std::string> lines = absl::StrSplit(listed, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << listed;
  EXPECT_NE(lines[0].find("\tAR\t"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\tAE\t"), std::string::npos) << lines[1];
  EXPECT_EQ(listed.find("191212121212"), std::string::npos);  // no personnummer in the list
  const std::string ae_id = std::string(absl::StrSplit(lines[1], '\t').begin()->data(),
                                        lines[1].find('\t'));
  auto [shown, show_rc] = RunCommand(cli + " show " + ae_id);
  EXPECT_EQ(show_rc, 0);
  EXPECT_NE(shown.find("ADT^A03"), std::string::npos);

  auto client = MllpClient::Connect(absl::StrCat("127.0.0.1:", *port));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Send(Adt("A01", "N7", "V404", "Tolvansson^Tolvan"), absl::Seconds(30)).ok());
  auto [resubmitted, resubmit_rc] = RunCommand(cli + " resubmit " + ae_id);
  EXPECT_EQ(resubmit_rc, 0) << resubmitted;
  EXPECT_NE(resubmitted.find("\tAA"), std::string::npos);
  auto [after, after_rc] = RunCommand(cli + " list");
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(after, '\n', absl::SkipEmpty())).size(), 1u);

  ASSERT_TRUE((*daemon)->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit = (*daemon)->WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0);
}

}  // namespace
}  // namespace carehub::hl7v2
