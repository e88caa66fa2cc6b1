// carehub-hl7v2: the HL7 v2 adapter alone. Listens for ADT over MLLP and sends each message to
// the care service (carehub-care or carehubd) over gRPC; carehubd runs the same adapter inside.
//
//   carehub-hl7v2 --care_address=127.0.0.1:50051 --mllp_address=127.0.0.1:2575
//                 --data_dir=./var/carehub --facilities=/etc/carehub/hl7v2-facilities.conf
//
// --facilities: per sending facility settings (format in carehub/hl7v2/facility_config.h); or
// --owner_hsa_id alone for one setting that applies to every facility. Dead letters go to
// <data_dir>/hl7v2/dead-letters; read them with carehub-hl7v2-deadletters.
//
// Stops cleanly on SIGTERM or SIGINT (exit code 0).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/log.h"
#include "carehub/base/status_macros.h"
#include "carehub/hl7v2/facility_config.h"
#include "carehub/hl7v2/hl7v2_adapter.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"

ABSL_FLAG(std::string, care_address, "127.0.0.1:50051",
          "gRPC target of the care service (carehub-care or carehubd).");
ABSL_FLAG(std::string, mllp_address, "127.0.0.1:2575",
          "host:port to listen on for MLLP; port 0 picks a free port (see --port_file).");
ABSL_FLAG(std::string, data_dir, "./var/carehub",
          "The hub's data directory; dead letters go to <data_dir>/hl7v2/dead-letters.");
ABSL_FLAG(std::string, facilities, "",
          "File of per sending facility settings (see carehub/hl7v2/facility_config.h).");
ABSL_FLAG(std::string, owner_hsa_id, "",
          "Without --facilities: the region's HSA-id, owner of every facility's events.");
ABSL_FLAG(int64_t, max_message_bytes, 4 << 20, "Longest message accepted; longer ones get AR.");
ABSL_FLAG(int, io_threads, 2, "Threads running the MLLP listener.");
ABSL_FLAG(absl::Duration, care_timeout, absl::Seconds(10),
          "How long one care-service call may take before the message gets AE.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound MLLP port is written here once listening, removed after a clean stop.");

namespace carehub::hl7v2 {
namespace {

constexpr char kBinary[] = "carehub-hl7v2";

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  }
  return absl::OkStatus();
}

absl::Status Run(const services::ShutdownSignals& signals) {
  FacilityDirectory facilities;
  if (!absl::GetFlag(FLAGS_facilities).empty()) {
    ASSIGN_OR_RETURN(facilities, FacilityDirectory::Load(absl::GetFlag(FLAGS_facilities)));
  } else if (!absl::GetFlag(FLAGS_owner_hsa_id).empty()) {
    ASSIGN_OR_RETURN(facilities, FacilityDirectory::Default(absl::GetFlag(FLAGS_owner_hsa_id)));
  } else {
    return absl::InvalidArgumentError("give --facilities or --owner_hsa_id");
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_care_address), grpc::InsecureChannelCredentials());
  ASSIGN_OR_RETURN(
      std::unique_ptr<Hl7v2Adapter> adapter,
      Hl7v2Adapter::Create(channel,
                           {.mllp_address = absl::GetFlag(FLAGS_mllp_address),
                            .data_dir = absl::GetFlag(FLAGS_data_dir),
                            .facilities = std::move(facilities),
                            .max_message_bytes =
                                static_cast<size_t>(absl::GetFlag(FLAGS_max_message_bytes)),
                            .io_threads = absl::GetFlag(FLAGS_io_threads),
                            .care_timeout = absl::GetFlag(FLAGS_care_timeout)}));
  ASSIGN_OR_RETURN(int port, adapter->Start());
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) RETURN_IF_ERROR(WritePortFile(port_file, port));
  const int signal = signals.Wait();
  LOG_INFO("process.stopping").Kv("binary", kBinary).Kv("signal", signal);
  adapter->Stop();
  if (!port_file.empty()) std::remove(port_file.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace carehub::hl7v2

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Receives HL7 v2 ADT over MLLP and records it in carehub.");
  absl::ParseCommandLine(argc, argv);
  return carehub::services::RunServerProcess(
      carehub::hl7v2::kBinary,
      {
          {"care_address", absl::GetFlag(FLAGS_care_address)},
          {"mllp_address", absl::GetFlag(FLAGS_mllp_address)},
          {"data_dir", absl::GetFlag(FLAGS_data_dir)},
      },
      carehub::hl7v2::Run);
}
