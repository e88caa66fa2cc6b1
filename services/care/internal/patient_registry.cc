#include "services/care/internal/patient_registry.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "carehub/base/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/care/internal/decide.h"

namespace carehub::care::internal {
namespace {

constexpr char kRegistryPrefix[] = "pid-";

std::optional<NationalIdKind> ToKind(v1::PatientIdentifierKind kind) {
  switch (kind) {
    case v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER: return NationalIdKind::kPersonnummer;
    case v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER: return NationalIdKind::kSamordningsnummer;
    case v1::PATIENT_IDENTIFIER_KIND_RESERVNUMMER: return NationalIdKind::kReservnummer;
    default: return std::nullopt;
  }
}

}  // namespace

std::string PatientStreamId(const std::string& patient_id) {
  return absl::StrCat("patient-", patient_id);
}

eventstore::ProposedEvent ToProposed(const v1::CareEvent& event) {
  const google::protobuf::Reflection* reflection = event.GetReflection();
  const google::protobuf::FieldDescriptor* field = reflection->GetOneofFieldDescriptor(
      event, event.GetDescriptor()->FindOneofByName("payload"));
  eventstore::ProposedEvent proposed;
  proposed.event_id = event.event_id();
  proposed.type =
      field != nullptr ? field->message_type()->full_name() : "carehub.care.v1.CareEvent";
  proposed.data = event.SerializeAsString();
  return proposed;
}

absl::StatusOr<v1::PatientIdentifier> PatientRegistry::Normalize(
    const v1::PatientIdentifier& identifier, const std::string& field) const {
  const std::optional<NationalIdKind> kind = ToKind(identifier.kind());
  if (!kind.has_value()) return absl::InvalidArgumentError(absl::StrCat(field, ".kind: required"));
  absl::StatusOr<NationalId> parsed =
      parser_->ParseAs(*kind, identifier.value(), calendar_->LocalDay(clock_->Now()));
  if (!parsed.ok()) {
    // The parser's messages never contain the identifier.
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".value: ", parsed.status().message()));
  }
  const std::string system(FhirIdentifierSystem(*parsed));
  if (!identifier.system().empty() && !system.empty() && identifier.system() != system) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".system: does not match the identifier's kind"));
  }
  v1::PatientIdentifier normalized;
  normalized.set_kind(identifier.kind());
  normalized.set_value(parsed->normalized());
  normalized.set_system(system.empty() ? identifier.system() : system);
  return normalized;
}

std::string PatientRegistry::IdentifierKey(const v1::PatientIdentifier& normalized) {
  return absl::StrCat(static_cast<int>(normalized.kind()), "|", normalized.system(), "|",
                      normalized.value());
}

std::string PatientRegistry::RegistryStreamId(const v1::PatientIdentifier& normalized) const {
  const std::string message = IdentifierKey(normalized);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), hub_key_.data(), static_cast<int>(hub_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_length);
  return absl::StrCat(kRegistryPrefix,
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(mac), mac_length)));
}

absl::StatusOr<std::string> PatientRegistry::ReadLinkedPatient(const std::string& stream_id) {
  ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                   store_->ReadStream({.stream_id = stream_id, .limit = 1}));
  if (events.empty()) return absl::NotFoundError("no patient has this identifier");
  v1::CareEvent event;
  if (!event.ParseFromString(events.front().data) || event.patient_id().empty()) {
    return absl::DataLossError(absl::StrCat("registry stream ", stream_id, " is damaged"));
  }
  return event.patient_id();
}

absl::Status PatientRegistry::EnsurePatientStream(const v1::CareEvent& link) {
  v1::CareEvent copy = link;
  copy.set_event_id(absl::StrCat(link.event_id(), "-patient"));
  absl::StatusOr<eventstore::AppendResult> appended = store_->Append(
      PatientStreamId(link.patient_id()), eventstore::ExpectedVersion::NoStream(),
      {ToProposed(copy)});
  // A conflict means the stream exists already: that is all we need.
  if (appended.ok() || eventstore::AppendConflict(appended.status()).has_value()) {
    return absl::OkStatus();
  }
  return appended.status();
}

absl::StatusOr<PatientRegistry::Resolution> PatientRegistry::Resolve(
    const v1::PatientIdentifier& normalized, bool create_if_missing) {
  const std::string key = IdentifierKey(normalized);
  {
    absl::MutexLock lock(&resolved_mu_);
    if (auto it = resolved_.find(key); it != resolved_.end()) {
      return Resolution{.patient_id = it->second};
    }
  }
  auto remember = [this, &key](const std::string& patient_id) {
    absl::MutexLock lock(&resolved_mu_);
    if (resolved_.size() >= kResolvedCapacity) resolved_.clear();
    resolved_.emplace(key, patient_id);
  };
  const std::string stream_id = RegistryStreamId(normalized);
  absl::StatusOr<std::string> existing = ReadLinkedPatient(stream_id);
  if (existing.ok() || !absl::IsNotFound(existing.status())) {
    if (!existing.ok()) return existing.status();
    remember(*existing);
    return Resolution{.patient_id = *existing};
  }
  if (!create_if_missing) return existing.status();
  ASSIGN_OR_RETURN(std::string patient_id, ids_->NewPatientId());
  v1::CareEvent link;
  link.set_event_id(absl::StrCat("link-", patient_id));
  link.set_patient_id(patient_id);
  *link.mutable_occurred_at() = ToProtoTime(clock_->Now());
  *link.mutable_recorded_at() = link.occurred_at();
  link.mutable_source()->set_system(kCareServiceSystem);
  *link.mutable_patient_identifier_linked()->mutable_identifier() = normalized;
  absl::StatusOr<eventstore::AppendResult> appended =
      store_->Append(stream_id, eventstore::ExpectedVersion::NoStream(), {ToProposed(link)});
  if (!appended.ok()) {
    // Lost the race: the winner's patient is the patient.
    if (!eventstore::AppendConflict(appended.status()).has_value()) return appended.status();
    ASSIGN_OR_RETURN(std::string winner, ReadLinkedPatient(stream_id));
    remember(winner);
    return Resolution{.patient_id = std::move(winner)};
  }
  RETURN_IF_ERROR(EnsurePatientStream(link));
  remember(patient_id);
  return Resolution{.patient_id = std::move(patient_id), .created = true};
}

absl::StatusOr<eventstore::AppendResult> PatientRegistry::Link(const v1::CareEvent& event) {
  const std::string stream_id =
      RegistryStreamId(event.patient_identifier_linked().identifier());
  absl::StatusOr<eventstore::AppendResult> appended =
      store_->Append(stream_id, eventstore::ExpectedVersion::NoStream(), {ToProposed(event)});
  if (appended.ok()) return appended;
  if (!eventstore::AppendConflict(appended.status()).has_value()) return appended.status();
  ASSIGN_OR_RETURN(std::string linked, ReadLinkedPatient(stream_id));
  if (linked != event.patient_id()) {
    return absl::FailedPreconditionError(
        "link_identifier.identifier: already denotes another patient");
  }
  return eventstore::AppendResult{.idempotent_replay = true};
}

}  // namespace carehub::care::internal
