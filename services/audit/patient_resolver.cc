// Patient resolution offline (the log's registry streams) and online (CareService), see
// patient_resolver.h.
#include "carehub/audit/patient_resolver.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/base/status_macros.h"
#include "carehub/care/deadlines.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/national_id.h"
#include "carehub/care/patient_id.h"
#include "carehub/care/v1/care_service.grpc.pb.h"
#include "carehub/services/common/grpc_status.h"
#include "services/care/internal/patient_registry.h"

namespace carehub::audit {
namespace {

namespace v1 = ::carehub::care::v1;

absl::Status Unknown(const absl::Status& status) {
  if (absl::IsNotFound(status)) return absl::NotFoundError("unknown patient");
  return status;
}

// The kind of a national identifier, parsed as of today in Europe/Stockholm. InvalidArgument
// that never repeats any part of the identifier.
absl::StatusOr<v1::PatientIdentifier> ParseIdentifier(std::string_view input,
                                                      const care::DeadlineCalendar& calendar) {
  const care::NationalIdParser parser;
  absl::StatusOr<care::NationalId> parsed =
      parser.Parse(input, calendar.LocalDay(absl::Now()));
  if (!parsed.ok()) {
    // Not the parser's message: it shows the birth date of the identifier, masked or not.
    return absl::InvalidArgumentError(
        "the patient is neither a patient id (UUID) nor a valid personnummer or "
        "samordningsnummer (check the digits and the check digit)");
  }
  v1::PatientIdentifier identifier;
  identifier.set_kind(parsed->kind() == care::NationalIdKind::kSamordningsnummer
                          ? v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER
                          : v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
  identifier.set_value(parsed->normalized());
  return identifier;
}

class RegistryResolver : public PatientResolver {
 public:
  RegistryResolver(eventstore::EventStore* store, std::string hub_key)
      : store_(store), hub_key_(std::move(hub_key)) {}

  absl::StatusOr<std::string> Resolve(std::string_view input) const override {
    if (care::IsPatientId(input)) return std::string(input);
    ASSIGN_OR_RETURN(care::DeadlineCalendar calendar, care::DeadlineCalendar::Create());
    ASSIGN_OR_RETURN(v1::PatientIdentifier identifier, ParseIdentifier(input, calendar));
    const care::NationalIdParser parser;
    // The registry reads only when create_if_missing is false: no id generator is needed.
    care::internal::PatientRegistry registry(store_, hub_key_, /*ids=*/nullptr, &parser,
                                             &calendar, Clock::Real());
    ASSIGN_OR_RETURN(v1::PatientIdentifier normalized, registry.Normalize(identifier, "patient"));
    absl::StatusOr<care::internal::PatientRegistry::Resolution> resolution =
        registry.Resolve(normalized, /*create_if_missing=*/false);
    if (!resolution.ok()) return Unknown(resolution.status());
    return resolution->patient_id;
  }

 private:
  eventstore::EventStore* const store_;
  const std::string hub_key_;
};

class RemoteResolver : public PatientResolver {
 public:
  explicit RemoteResolver(const std::string& target)
      : stub_(v1::CareService::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}

  absl::StatusOr<std::string> Resolve(std::string_view input) const override {
    if (care::IsPatientId(input)) return std::string(input);
    ASSIGN_OR_RETURN(care::DeadlineCalendar calendar, care::DeadlineCalendar::Create());
    ASSIGN_OR_RETURN(v1::PatientIdentifier identifier, ParseIdentifier(input, calendar));
    v1::ResolvePatientRequest request;
    *request.mutable_identifier() = identifier;
    request.set_create_if_missing(false);
    v1::ResolvePatientResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    context.set_wait_for_ready(false);
    const grpc::Status status = stub_->ResolvePatient(&context, request, &response);
    if (!status.ok()) return Unknown(services::FromGrpcStatus(status));
    return response.patient_id();
  }

 private:
  std::unique_ptr<v1::CareService::Stub> stub_;
};

}  // namespace

absl::StatusOr<std::string> ReadHubKey(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("no hub key at ", path));
  }
  // LoadOrCreateHubKey only reads an existing file; checked above, so nothing is created.
  return care::LoadOrCreateHubKey(path);
}

std::unique_ptr<PatientResolver> NewRegistryResolver(eventstore::EventStore* store,
                                                     std::string hub_key) {
  return std::make_unique<RegistryResolver>(store, std::move(hub_key));
}

std::unique_ptr<PatientResolver> NewRemoteResolver(const std::string& target) {
  return std::make_unique<RemoteResolver>(target);
}

}  // namespace carehub::audit
