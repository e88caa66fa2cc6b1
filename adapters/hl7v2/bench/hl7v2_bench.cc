// carehub-hl7v2-bench: ADT messages per second end to end, and ACK latency, from 1 and from 8
// concurrent MLLP connections.
//
//   carehub-hl7v2-bench [--messages=4000] [--connections=1,8] [--patients_per_connection=200]
//                       [--channels=inprocess,tcp]
//
// Everything is real and in one process: the event log on RocksDB in a temp dir (every append
// fsynced, group commit), the care service on gRPC (127.0.0.1:0), the adapter on MLLP
// (127.0.0.1:0) talking to it over a gRPC channel, and blocking MLLP clients, one thread per
// connection, each sending the next message when the previous ACK (AA, after the durable append)
// arrives. The channel is gRPC's in-process transport, as carehubd wires its adapters, and/or
// TCP, as the standalone adapter daemon reaches a care service. The messages are A08 updates
// cycling over each connection's own patients (created in a warm-up pass, so the measured
// messages are updates of existing records, as most ADT traffic is). Prints one `bench ...` line
// per channel and connection count, beside the same commands sent to the care service directly
// (care_grpc_baseline, without MLLP and the adapter).
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "carehub/base/clock.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/patient_id.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/hl7v2/adt_mapping.h"
#include "carehub/hl7v2/hl7v2_adapter.h"
#include "carehub/hl7v2/message.h"
#include "carehub/hl7v2/mllp_client.h"
#include "carehub/services/care_service.h"
#include "carehub/services/common/grpc_server.h"

ABSL_FLAG(int, messages, 4000, "Measured messages per connection count (split over connections).");
ABSL_FLAG(std::string, connections, "1,8", "Connection counts to measure.");
ABSL_FLAG(std::string, channels, "inprocess,tcp",
          "How the adapter reaches the care service: inprocess (gRPC's in-process transport, as "
          "inside carehubd) and/or tcp (127.0.0.1, as the standalone daemons).");
ABSL_FLAG(int, patients_per_connection, 200, "Patients each connection cycles over.");
ABSL_FLAG(bool, baseline, true,
          "Also measure the same commands sent straight to the care service over gRPC (no MLLP, "
          "no parsing), so the adapter's own share of the cost shows.");

namespace carehub::hl7v2 {
namespace {

std::string Personnummer(int serial) {
  // Birth dates from 1930-01-01 on, 900 serials per day: all distinct, all with a valid check.
  const absl::CivilDay day = absl::CivilDay(1930, 1, 1) + serial / 900;
  const std::string ten = absl::StrCat(absl::FormatCivilTime(day).substr(2, 2),
                                       absl::FormatCivilTime(day).substr(5, 2),
                                       absl::FormatCivilTime(day).substr(8, 2),
                                       absl::StrFormat("%03d", 100 + serial % 900));
  int sum = 0;
  for (size_t i = 0; i < 9; ++i) {
    int d = (ten[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return absl::StrCat("19", ten.substr(0, 9), (10 - sum % 10) % 10);
}

std::string A08(const std::string& pnr, const std::string& control_id) {
  return absl::StrCat(
      "MSH|^~\\&|COSMIC|SE2321000131|CAREHUB|REGION|20261125233000||ADT^A08^ADT_A01|", control_id,
      "|P|2.5|||||SE|UNICODE UTF-8\rEVN|A08|20261125233000\r",
      "PID|1||555^^^HOSP^MR~", pnr,
      "^^^SKV&1.2.752.129.2.1.3.1&ISO^PN||Testsson^Test||19400101|F|||Storgatan 1^^V\xC3\xA4"
      "ster\xC3\xA5s^^72210^^^^1980||021-123456\r",
      "PV1|1|O|MOTT^^^VS||||||||||||||||B1^^^COSMIC\r");
}

struct Run {
  double seconds = 0;
  std::vector<double> latencies_ms;
  int errors = 0;
};

// Sends one message and reports whether it was accepted; one per connection thread.
using Sender = std::function<bool(const std::string& message)>;
using SenderFactory = std::function<Sender()>;

Run Measure(const SenderFactory& factory, int connections, int per_connection, int patients,
            int round, int offset) {
  Run run;
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      Sender send = factory();
      for (int i = 0; i < per_connection; ++i) {
        const std::string pnr = Personnummer(offset + c * patients + i % patients);
        const std::string message = A08(pnr, absl::StrCat("B", round, "-", c, "-", i));
        const absl::Time sent = absl::Now();
        const bool ok = send(message);
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
        if (!ok) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  run.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (auto& l : latencies) run.latencies_ms.insert(run.latencies_ms.end(), l.begin(), l.end());
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  run.errors = errors;
  return run;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

int Main() {
  const std::string dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                       "/carehub-hl7v2-bench-", ::getpid());
  std::filesystem::create_directories(dir);
  auto store = eventstore::EventStore::Open({.path = dir + "/log"});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<care::PatientIdGenerator> ids = care::NewUrandomPatientIdGenerator();
  auto commands = care::CareCommands::Create(
      store->get(), {.clock = Clock::Real(),
                     .ids = ids.get(),
                     .hub_key = *care::LoadOrCreateHubKey(dir + "/hub.key")});
  if (!commands.ok()) {
    std::fprintf(stderr, "%s\n", commands.status().ToString().c_str());
    return 1;
  }
  services::CareService service(commands->get());
  services::GrpcServer server({.address = "127.0.0.1:0"});
  server.AddService(&service, care::v1::CareService::service_full_name());
  const int care_port = *server.Start();
  const FacilityConfig facility = *FacilityDirectory::Default("SE2321000131-E000000000001")->Find("X");
  const int messages = absl::GetFlag(FLAGS_messages);
  const int patients = absl::GetFlag(FLAGS_patients_per_connection);
  int round = 0, offset = 0;
  std::printf("hl7v2 bench: %d messages per run, A08 over existing patients, fsync per group commit\n",
              messages);
  for (absl::string_view channel_kind : absl::StrSplit(absl::GetFlag(FLAGS_channels), ',')) {
    std::shared_ptr<grpc::Channel> channel;
    if (channel_kind == "inprocess") {
      channel = server.InProcessChannel();
    } else if (channel_kind == "tcp") {
      channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", care_port),
                                    grpc::InsecureChannelCredentials());
    } else {
      std::fprintf(stderr, "--channels: unknown channel %s\n", std::string(channel_kind).c_str());
      return 1;
    }
    // A new adapter per channel (and its own dead-letter directory).
    const std::string adapter_dir = absl::StrCat(dir, "/", channel_kind);
    std::filesystem::create_directories(adapter_dir);
    auto adapter = Hl7v2Adapter::Create(
        channel, {.mllp_address = "127.0.0.1:0",
                  .data_dir = adapter_dir,
                  .facilities = *FacilityDirectory::Default("SE2321000131-E000000000001")});
    if (!adapter.ok()) {
      std::fprintf(stderr, "%s\n", adapter.status().ToString().c_str());
      return 1;
    }
    const std::string address = absl::StrCat("127.0.0.1:", *(*adapter)->Start());
    const SenderFactory via_mllp = [&address]() -> Sender {
      std::shared_ptr<MllpClient> client(MllpClient::Connect(address)->release());
      return [client](const std::string& message) {
        absl::StatusOr<std::string> ack = client->Send(message, absl::Seconds(60));
        return ack.ok() && ack->find("MSA|AA|") != std::string::npos;
      };
    };
    const SenderFactory direct = [&channel, facility]() -> Sender {
      std::shared_ptr<care::v1::CareService::Stub> stub = care::v1::CareService::NewStub(channel);
      return [stub, facility](const std::string& message) {
        // Parsed and mapped outside the timed call would flatter nothing: it is microseconds.
        absl::StatusOr<care::v1::CommandRequest> command =
            MapAdt(*Hl7Message::Parse(message), facility);
        grpc::ClientContext context;
        care::v1::CommandResponse response;
        return command.ok() && stub->Execute(&context, *command, &response).ok();
      };
    };
    for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_connections), ',')) {
      int connections;
      if (!absl::SimpleAtoi(c, &connections) || connections < 1) continue;
      for (const auto& [name, factory] :
           std::vector<std::pair<const char*, SenderFactory>>{{"hl7v2_adt_e2e", via_mllp},
                                                              {"care_grpc_baseline", direct}}) {
        if (std::string_view(name) == "care_grpc_baseline" && !absl::GetFlag(FLAGS_baseline)) {
          continue;
        }
        // Warm-up: each connection creates its patients.
        Measure(factory, connections, patients, patients, ++round, offset);
        const Run run = Measure(factory, connections, messages / connections, patients, ++round,
                                offset);
        offset += connections * patients;
        const double rate = run.latencies_ms.size() / run.seconds;
        std::printf(
            "bench name=%s channel=%s connections=%d messages=%zu seconds=%.2f msgs_per_s=%.0f "
            "ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f errors=%d\n",
            name, std::string(channel_kind).c_str(), connections, run.latencies_ms.size(),
            run.seconds, rate, Percentile(run.latencies_ms, 0.50),
            Percentile(run.latencies_ms, 0.99),
            run.latencies_ms.empty() ? 0 : run.latencies_ms.back(), run.errors);
        std::fflush(stdout);
      }
    }
    (*adapter)->Stop();
  }
  server.Shutdown(absl::Seconds(5));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace carehub::hl7v2

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As the servers run (services::RunServerProcess): no lock-order graph on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return carehub::hl7v2::Main();
}
