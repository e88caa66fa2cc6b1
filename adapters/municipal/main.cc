// carehub-municipal: the municipal adapter alone, talking gRPC to a care service (carehub-care or
// carehubd). carehubd runs the same MunicipalAdapter in-process.
//
//   carehub-municipal --care_address=127.0.0.1:50051 --data_dir=./var/carehub
//                     --http_address=127.0.0.1:8090 --source_system=lifecare-vasteras
//
// Files go into <data_dir>/municipal/inbox (see adapters/municipal/FORMAT.md); results come out
// in done/ and failed/. Stops cleanly on SIGTERM or SIGINT (exit code 0).
#include <cstdio>
#include <filesystem>
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
#include "carehub/municipal/municipal_adapter.h"
#include "carehub/services/common/server_main.h"
#include "carehub/services/common/shutdown_signal.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

ABSL_FLAG(std::string, care_address, "127.0.0.1:50051",
          "gRPC target of the care service (carehub-care or carehubd).");
ABSL_FLAG(std::string, data_dir, "./var/carehub",
          "Data directory; files are taken from <data_dir>/municipal/inbox.");
ABSL_FLAG(std::string, municipal_dir, "",
          "Directory holding inbox/, done/ and failed/; empty: <data_dir>/municipal.");
ABSL_FLAG(std::string, http_address, "127.0.0.1:8090",
          "host:port of the HTTP import endpoint (POST /municipal/v1/import); port 0 picks a "
          "free port (see --port_file); empty: no HTTP endpoint.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound HTTP port is written here once serving, and removed after a clean "
          "stop.");
ABSL_FLAG(std::string, source_system, "municipal",
          "The municipal system the records come from (source.system; with record_id the "
          "idempotency key), e.g. lifecare-vasteras.");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(2), "How often the inbox is scanned.");
ABSL_FLAG(int, max_in_flight, 256, "Care commands in flight at once (one per patient at most).");
ABSL_FLAG(int, http_threads, 4, "HTTP threads; each concurrent upload holds one.");
ABSL_FLAG(int64_t, max_body_bytes, 64 << 20, "Largest HTTP body accepted (413 above).");

namespace carehub::municipal {
namespace {

constexpr char kBinary[] = "carehub-municipal";

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  std::fprintf(f, "%d\n", port);
  std::fclose(f);
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", error.message()));
  return absl::OkStatus();
}

absl::Status Run(const services::ShutdownSignals& signals) {
  std::string root = absl::GetFlag(FLAGS_municipal_dir);
  if (root.empty()) root = (std::filesystem::path(absl::GetFlag(FLAGS_data_dir)) / "municipal").string();
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_care_address), grpc::InsecureChannelCredentials());
  MunicipalAdapter adapter(
      channel, {.root = root,
                .http_address = absl::GetFlag(FLAGS_http_address),
                .source_system = absl::GetFlag(FLAGS_source_system),
                .http_threads = absl::GetFlag(FLAGS_http_threads),
                .max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes)),
                .poll_interval = absl::GetFlag(FLAGS_poll_interval),
                .importer = {.max_in_flight = absl::GetFlag(FLAGS_max_in_flight)}});
  RETURN_IF_ERROR(adapter.Start());
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) RETURN_IF_ERROR(WritePortFile(port_file, adapter.http_port()));
  LOG_INFO("process.serving").Kv("binary", kBinary).Kv("http_port", adapter.http_port());
  const int signal = signals.Wait();
  LOG_INFO("process.stopping").Kv("signal", signal);
  adapter.Stop();
  if (!port_file.empty()) std::filesystem::remove(port_file);
  return absl::OkStatus();
}

}  // namespace
}  // namespace carehub::municipal

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Imports municipal care records (carehub-municipal/1: JSON Lines, CSV) from a drop "
      "directory and over HTTP into the carehub care service.");
  absl::ParseCommandLine(argc, argv);
  return carehub::services::RunServerProcess(
      carehub::municipal::kBinary,
      {
          {"care_address", absl::GetFlag(FLAGS_care_address)},
          {"data_dir", absl::GetFlag(FLAGS_data_dir)},
          {"http_address", absl::GetFlag(FLAGS_http_address)},
          {"source_system", absl::GetFlag(FLAGS_source_system)},
      },
      carehub::municipal::Run);
}
