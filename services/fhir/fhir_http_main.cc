#include "carehub/services/fhir_http_main.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, http_address, "127.0.0.1:8080",
          "host:port of the FHIR REST API (base /fhir); port 0 picks a free port (see "
          "--http_port_file).");
ABSL_FLAG(std::string, http_port_file, "",
          "If set, the bound HTTP port is written to this file once serving, and removed after a "
          "clean stop.");
ABSL_FLAG(int, http_threads, 0, "Threads of the HTTP server; 0: one per core, at most 8.");
ABSL_FLAG(std::string, http_base_url, "",
          "Absolute base URL written into Bundle links and fullUrl (e.g. "
          "https://fhir.example.se/fhir); empty: http://<Host header>/fhir.");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(30),
          "A connection that sends no complete request within this time is closed (also the "
          "keep-alive idle limit).");
ABSL_FLAG(int, http_max_requests_per_connection, 10000,
          "Requests served on one keep-alive connection before it is closed.");
ABSL_FLAG(int, http_max_connections, 1024, "Open HTTP connections at most; more are refused.");
ABSL_FLAG(bool, http_access_log, true, "Log one http.access line per request.");
ABSL_FLAG(bool, access_log, true,
          "Record every FHIR read, search, history and $everything (who, which patients) in the "
          "durable access log <data_dir>/access-log before answering, and serve it as AuditEvent. "
          "false only for measurements: Swedish patient-data law requires the log.");

namespace carehub::services {

HttpServerOptions HttpServerOptionsFromFlags() {
  int threads = absl::GetFlag(FLAGS_http_threads);
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
    threads = std::max(1, std::min(threads, 8));
  }
  return {
      .address = absl::GetFlag(FLAGS_http_address),
      .threads = threads,
      .request_timeout = absl::GetFlag(FLAGS_http_request_timeout),
      .max_requests_per_connection =
          static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_http_max_requests_per_connection))),
      .max_connections = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_http_max_connections))),
      .access_log = absl::GetFlag(FLAGS_http_access_log),
      .name = "fhir",
  };
}

FhirApi::Options FhirApiOptionsFromFlags(std::function<FhirHealth()> health) {
  FhirApi::Options options;
  options.base_url = absl::GetFlag(FLAGS_http_base_url);
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  options.health = std::move(health);
  return options;
}

absl::StatusOr<std::unique_ptr<audit::AccessLog>> OpenAccessLogFromFlags(const std::string& data_dir) {
  if (!absl::GetFlag(FLAGS_access_log)) return std::unique_ptr<audit::AccessLog>();
  return audit::AccessLog::Open({.path = (std::filesystem::path(data_dir) / "access-log").string()});
}

absl::Status WriteHttpPortFile(int port) {
  const std::string path = absl::GetFlag(FLAGS_http_port_file);
  if (path.empty()) return absl::OkStatus();
  const std::string temp = path + ".tmp";
  bool written;
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    written = static_cast<bool>(out.flush());
  }
  if (!written || std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write the HTTP port file ", path));
  }
  return absl::OkStatus();
}

void RemoveHttpPortFile() {
  const std::string path = absl::GetFlag(FLAGS_http_port_file);
  if (!path.empty()) std::remove(path.c_str());
}

FhirHealth ProjectorHealth(const FhirProjector& projector, eventstore::EventStore& store) {
  FhirHealth health;
  // The checkpoint first: the log only grows, so a checkpoint read before the head can only
  // look behind, never ahead.
  health.checkpoint = projector.checkpoint();
  const absl::StatusOr<uint64_t> log_end = eventstore::LogEnd(store);
  if (log_end.ok()) health.log_end = *log_end;
  const absl::Status status = projector.status();
  if (!projector.running()) {
    health.detail = status.ok() ? "the projector is not running"
                                : absl::StrCat("the projector stopped: ", status.ToString());
  } else if (!log_end.ok()) {
    // Whether the read model is current cannot be told without the log's head.
    health.detail = absl::StrCat("the event log cannot be reached: ", log_end.status().ToString());
  } else if (health.checkpoint < *health.log_end) {
    health.detail = absl::StrCat(*health.log_end - health.checkpoint, " events to project");
  }
  health.ready = health.detail.empty();
  return health;
}

}  // namespace carehub::services
