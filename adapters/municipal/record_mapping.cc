// The mapping of format version 1: a table of record types, each with the fields it may carry
// beyond the common ones and a function that fills its command payload. FORMAT.md documents the
// same table for people; keep the two in step.
#include "carehub/municipal/record_mapping.h"

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "adapters/municipal/internal/record_view.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"

namespace carehub::municipal {
namespace {

namespace v1 = care::v1;
using internal::FieldError;
using internal::RecordView;

// Fields every record may carry (the command's envelope).
const std::vector<std::string_view> kCommonFields = {
    "format",     "record_type", "record_id",   "personnummer",  "patient_id",
    "owner",      "owner_hsa_id", "occurred_at", "system",        "unit_hsa_id",
    "author_hsa_id", "author_name", "correlation_id"};

const std::vector<std::string_view> kMemberFields = {
    "care_team_id",      "member_kind",      "member_hsa_id",       "member_name",
    "role_system",       "role_code",        "role_display",        "member_org_hsa_id",
    "member_org_name",   "on_behalf_of_hsa_id", "on_behalf_of_name"};

using Fill = std::function<absl::Status(const RecordView&, v1::CommandRequest&)>;

struct RecordType {
  std::string_view name;
  std::vector<std::string_view> fields;
  // The field whose time stands for occurred_at when the record gives none; may be empty.
  std::string_view time_field;
  Fill fill;
};

void FillOrganisation(const RecordView& r, std::string_view hsa_field,
                      std::string_view name_field, std::string_view number_field,
                      v1::Organisation* org) {
  org->set_hsa_id(r.Text(hsa_field));
  org->set_name(r.Text(name_field));
  if (!number_field.empty()) org->set_organisation_number(r.Text(number_field));
}

// Sets the field `mutable_field()` returns only when the record gives the time, so that an absent
// time leaves the message field unset.
template <typename MutableField>
absl::Status SetTime(const RecordView& r, std::string_view name, MutableField mutable_field) {
  ASSIGN_OR_RETURN(std::optional<google::protobuf::Timestamp> time, r.Time(name));
  if (time.has_value()) *mutable_field() = *time;
  return absl::OkStatus();
}

bool IsEmpty(const v1::Organisation& org) {
  return org.hsa_id().empty() && org.name().empty() && org.organisation_number().empty();
}

absl::StatusOr<std::optional<v1::DataOwnerKind>> OwnerKind(const RecordView& r,
                                                           std::string_view field) {
  return r.Choice<v1::DataOwnerKind>(field, {{"SoL", v1::DATA_OWNER_KIND_MUNICIPALITY_SOL},
                                             {"HSL", v1::DATA_OWNER_KIND_MUNICIPALITY_HSL}});
}

// A coding from the fields <prefix>system, <prefix>code (or `code_field`), <prefix>display.
void FillCoding(const RecordView& r, std::string_view prefix, std::string_view code_field,
                v1::Coding* coding) {
  coding->set_system(r.Text(absl::StrCat(Sv(prefix), "system")));
  coding->set_code(r.Text(code_field));
  coding->set_display(r.Text(absl::StrCat(Sv(prefix), "display")));
}

absl::Status FillActivityPlanned(const RecordView& r, v1::CommandRequest& c) {
  v1::ActivityPlanned* p = c.mutable_activity_planned();
  ASSIGN_OR_RETURN(*p->mutable_activity_id(), r.RequiredText("activity_id"));
  p->set_care_plan_id(r.Text("care_plan_id"));
  p->set_description(r.Text("description"));
  FillCoding(r, "code_", "code", p->mutable_code());
  if (p->code().code().empty() && p->code().display().empty()) p->clear_code();
  FillOrganisation(r, "performer_hsa_id", "performer_name", "performer_org_number",
                   p->mutable_performer());
  if (IsEmpty(p->performer())) p->clear_performer();
  ASSIGN_OR_RETURN(std::optional<v1::DataOwnerKind> owner, OwnerKind(r, "activity_owner"));
  if (owner.has_value()) {
    p->mutable_data_owner()->set_kind(*owner);
    p->mutable_data_owner()->set_organisation_hsa_id(r.Text("activity_owner_hsa_id"));
  } else if (!r.Text("activity_owner_hsa_id").empty()) {
    return FieldError("activity_owner", "required with activity_owner_hsa_id");
  }
  v1::Schedule* s = p->mutable_schedule();
  RETURN_IF_ERROR(SetTime(r, "schedule_start", [&] { return s->mutable_start(); }));
  RETURN_IF_ERROR(SetTime(r, "schedule_end", [&] { return s->mutable_end(); }));
  ASSIGN_OR_RETURN(std::optional<uint32_t> frequency, r.Count("frequency", 1000));
  ASSIGN_OR_RETURN(std::optional<uint32_t> period, r.Count("period", 1000));
  s->set_frequency(frequency.value_or(0));
  s->set_period(period.value_or(0));
  using U = v1::Schedule;
  ASSIGN_OR_RETURN(std::optional<U::PeriodUnit> unit,
                   r.Choice<U::PeriodUnit>("period_unit", {{"timme", U::PERIOD_UNIT_HOUR},
                                                           {"dag", U::PERIOD_UNIT_DAY},
                                                           {"vecka", U::PERIOD_UNIT_WEEK},
                                                           {"manad", U::PERIOD_UNIT_MONTH},
                                                           {"månad", U::PERIOD_UNIT_MONTH},
                                                           {"hour", U::PERIOD_UNIT_HOUR},
                                                           {"day", U::PERIOD_UNIT_DAY},
                                                           {"week", U::PERIOD_UNIT_WEEK},
                                                           {"month", U::PERIOD_UNIT_MONTH}}));
  s->set_period_unit(unit.value_or(U::PERIOD_UNIT_UNSPECIFIED));
  if ((frequency.has_value() || period.has_value() || unit.has_value()) &&
      !(frequency.has_value() && period.has_value() && unit.has_value())) {
    return FieldError("frequency", "frequency, period and period_unit go together");
  }
  for (const std::string& time : r.List("times_of_day")) {
    absl::CivilMinute minute;
    if (time.size() != 5 || !absl::ParseCivilTime(absl::StrCat("2000-01-01T", time), &minute)) {
      return FieldError("times_of_day", "each time of day must be HH:MM, separated by '|'");
    }
    s->add_times_of_day(time);
  }
  for (const std::string& day : r.List("days_of_week")) {
    if (day.size() != 1 || day[0] < '1' || day[0] > '7') {
      return FieldError("days_of_week", "each day must be 1 (Monday) .. 7 (Sunday), separated by '|'");
    }
    s->add_days_of_week(static_cast<uint32_t>(day[0] - '0'));
  }
  s->set_text(r.Text("schedule_text"));
  for (const std::string& goal : r.List("goal_ids")) p->add_goal_ids(goal);
  ASSIGN_OR_RETURN(std::optional<bool> in_home, r.YesNo("in_home"));
  p->set_in_home(in_home.value_or(false));
  return absl::OkStatus();
}

// Paused/resumed/completed/cancelled: activity_id plus one text field (`text_field`).
template <typename Message>
absl::Status FillTransition(const RecordView& r, Message* m, std::string_view text_field,
                            std::string* text) {
  ASSIGN_OR_RETURN(*m->mutable_activity_id(), r.RequiredText("activity_id"));
  *text = r.Text(text_field);
  return absl::OkStatus();
}

absl::Status FillAgreedTime(const RecordView& r, v1::CommandRequest& c) {
  v1::AgreedTimeBooked* b = c.mutable_agreed_time_booked();
  ASSIGN_OR_RETURN(*b->mutable_appointment_id(), r.RequiredText("appointment_id"));
  b->set_care_plan_id(r.Text("care_plan_id"));
  b->set_activity_id(r.Text("activity_id"));
  RETURN_IF_ERROR(r.RequiredText("start").status());
  RETURN_IF_ERROR(SetTime(r, "start", [&] { return b->mutable_start(); }));
  RETURN_IF_ERROR(SetTime(r, "end", [&] { return b->mutable_end(); }));
  FillOrganisation(r, "performer_hsa_id", "performer_name", "performer_org_number",
                   b->mutable_performer());
  if (IsEmpty(b->performer())) b->clear_performer();
  b->mutable_practitioner()->set_hsa_id(r.Text("practitioner_hsa_id"));
  b->mutable_practitioner()->set_name(r.Text("practitioner_name"));
  if (b->practitioner().hsa_id().empty() && b->practitioner().name().empty()) {
    b->clear_practitioner();
  }
  ASSIGN_OR_RETURN(std::optional<v1::MeetingMode> mode,
                   r.Choice<v1::MeetingMode>("mode", {{"fysiskt", v1::MEETING_MODE_IN_PERSON},
                                                      {"video", v1::MEETING_MODE_VIDEO},
                                                      {"telefon", v1::MEETING_MODE_PHONE}}));
  b->set_mode(mode.value_or(v1::MEETING_MODE_UNSPECIFIED));
  b->set_location(r.Text("location"));
  b->set_description(r.Text("description"));
  return absl::OkStatus();
}

absl::Status FillMember(const RecordView& r, bool kind_required, v1::CareTeamMember* m) {
  ASSIGN_OR_RETURN(std::optional<v1::MemberKind> kind,
                   r.Choice<v1::MemberKind>("member_kind",
                                            {{"personal", v1::MEMBER_KIND_PRACTITIONER},
                                             {"narstaende", v1::MEMBER_KIND_RELATED_PERSON},
                                             {"närstående", v1::MEMBER_KIND_RELATED_PERSON},
                                             {"patient", v1::MEMBER_KIND_PATIENT}}));
  if (!kind.has_value() && kind_required) return FieldError("member_kind", "required");
  m->set_kind(kind.value_or(v1::MEMBER_KIND_PRACTITIONER));
  m->set_hsa_id(r.Text("member_hsa_id"));
  m->set_name(r.Text("member_name"));
  if (m->kind() == v1::MEMBER_KIND_PRACTITIONER && m->hsa_id().empty()) {
    return FieldError("member_hsa_id", "required for staff (member_kind personal)");
  }
  FillCoding(r, "role_", "role_code", m->mutable_role());
  if (m->role().code().empty() && m->role().display().empty()) m->clear_role();
  FillOrganisation(r, "member_org_hsa_id", "member_org_name", "", m->mutable_organisation());
  if (IsEmpty(m->organisation())) m->clear_organisation();
  FillOrganisation(r, "on_behalf_of_hsa_id", "on_behalf_of_name", "", m->mutable_on_behalf_of());
  if (IsEmpty(m->on_behalf_of())) m->clear_on_behalf_of();
  return absl::OkStatus();
}

absl::Status FillHomeVisit(const RecordView& r, v1::CommandRequest& c) {
  v1::HomeVisitPerformed* v = c.mutable_home_visit_performed();
  ASSIGN_OR_RETURN(*v->mutable_visit_id(), r.RequiredText("visit_id"));
  v->set_activity_id(r.Text("activity_id"));
  ASSIGN_OR_RETURN(std::optional<v1::HomeVisitReason> reason,
                   r.Choice<v1::HomeVisitReason>("visit_reason",
                                                 {{"planerat", v1::HOME_VISIT_REASON_PLANNED},
                                                  {"larm", v1::HOME_VISIT_REASON_ALERT},
                                                  {"oplanerat", v1::HOME_VISIT_REASON_UNPLANNED}}));
  v->set_reason(reason.value_or(v1::HOME_VISIT_REASON_UNSPECIFIED));
  v->set_alert_id(r.Text("alert_id"));
  RETURN_IF_ERROR(SetTime(r, "started_at", [&] { return v->mutable_started_at(); }));
  RETURN_IF_ERROR(SetTime(r, "ended_at", [&] { return v->mutable_ended_at(); }));
  const std::vector<std::string> ids = r.List("performer_hsa_ids");
  const std::vector<std::string> names = r.List("performer_names");
  if (!names.empty() && names.size() != ids.size()) {
    return FieldError("performer_names", "must name each of performer_hsa_ids, in order");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::Actor* actor = v->add_performers();
    actor->set_hsa_id(ids[i]);
    if (!names.empty()) actor->set_name(names[i]);
  }
  FillOrganisation(r, "performer_hsa_id", "performer_name", "performer_org_number",
                   v->mutable_performing_organisation());
  if (IsEmpty(v->performing_organisation())) v->clear_performing_organisation();
  v->set_outcome(r.Text("outcome"));
  return absl::OkStatus();
}

absl::Status FillSelfMonitoring(const RecordView& r, v1::CommandRequest& c) {
  v1::SelfMonitoringObservationRecorded* o = c.mutable_self_monitoring_observation_recorded();
  ASSIGN_OR_RETURN(*o->mutable_observation_id(), r.RequiredText("observation_id"));
  RETURN_IF_ERROR(r.RequiredText("code").status());
  FillCoding(r, "code_", "code", o->mutable_code());
  ASSIGN_OR_RETURN(std::optional<double> value, r.Decimal("value"));
  o->set_value_text(r.Text("value_text"));
  if (!value.has_value() && o->value_text().empty()) {
    return FieldError("value", "required (or value_text for an answer that is not a number)");
  }
  o->set_value(value.value_or(0));
  o->set_unit(r.Text("unit"));
  RETURN_IF_ERROR(SetTime(r, "measured_at", [&] { return o->mutable_measured_at(); }));
  v1::Device* d = o->mutable_device();
  d->set_device_id(r.Text("device_id"));
  FillCoding(r, "device_type_", "device_type_code", d->mutable_type());
  if (d->type().code().empty() && d->type().display().empty()) d->clear_type();
  d->set_manufacturer(r.Text("device_manufacturer"));
  d->set_model(r.Text("device_model"));
  if (d->ByteSizeLong() == 0) o->clear_device();
  o->set_activity_id(r.Text("activity_id"));
  return absl::OkStatus();
}

std::vector<std::string_view> Concat(std::vector<std::string_view> a,
                                     const std::vector<std::string_view>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<RecordType>& Types() {
  using C = v1::CommandRequest;
  static const std::vector<RecordType>* const kTypes = new std::vector<RecordType>{
      {"insats_planerad",
       {"activity_id", "care_plan_id", "description", "code_system", "code", "code_display",
        "performer_hsa_id", "performer_name", "performer_org_number", "activity_owner",
        "activity_owner_hsa_id", "schedule_start", "schedule_end", "frequency", "period",
        "period_unit", "times_of_day", "days_of_week", "schedule_text", "goal_ids", "in_home"},
       "",
       FillActivityPlanned},
      {"insats_paborjad", {"activity_id", "started_at"}, "started_at",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::ActivityStarted* m = c.mutable_activity_started();
         ASSIGN_OR_RETURN(*m->mutable_activity_id(), r.RequiredText("activity_id"));
         return SetTime(r, "started_at", [&] { return m->mutable_started_at(); });
       }},
      {"insats_vilande", {"activity_id", "reason", "expected_resume_at"}, "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::ActivityPaused* m = c.mutable_activity_paused();
         RETURN_IF_ERROR(FillTransition(r, m, "reason", m->mutable_reason()));
         return SetTime(r, "expected_resume_at", [&] { return m->mutable_expected_resume_at(); });
       }},
      {"insats_aterupptagen", {"activity_id", "reason"}, "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::ActivityResumed* m = c.mutable_activity_resumed();
         return FillTransition(r, m, "reason", m->mutable_reason());
       }},
      {"insats_avslutad", {"activity_id", "outcome"}, "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::ActivityCompleted* m = c.mutable_activity_completed();
         return FillTransition(r, m, "outcome", m->mutable_outcome());
       }},
      {"insats_avbruten", {"activity_id", "reason"}, "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::ActivityCancelled* m = c.mutable_activity_cancelled();
         return FillTransition(r, m, "reason", m->mutable_reason());
       }},
      {"overenskommen_tid",
       {"appointment_id", "care_plan_id", "activity_id", "start", "end", "performer_hsa_id",
        "performer_name", "performer_org_number", "practitioner_hsa_id", "practitioner_name",
        "mode", "location", "description"},
       "",
       FillAgreedTime},
      {"teammedlem_tillagd", kMemberFields, "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::CareTeamMemberAdded* a = c.mutable_care_team_member_added();
         a->set_care_team_id(r.Text("care_team_id"));
         return FillMember(r, /*kind_required=*/true, a->mutable_member());
       }},
      {"teammedlem_borttagen", Concat(kMemberFields, {"reason"}), "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::CareTeamMemberRemoved* m = c.mutable_care_team_member_removed();
         m->set_care_team_id(r.Text("care_team_id"));
         m->set_reason(r.Text("reason"));
         return FillMember(r, /*kind_required=*/true, m->mutable_member());
       }},
      {"fast_vardkontakt", Concat(kMemberFields, {"replaces_hsa_id"}), "",
       [](const RecordView& r, C& c) -> absl::Status {
         v1::PrimaryContactAssigned* p = c.mutable_primary_contact_assigned();
         p->set_care_team_id(r.Text("care_team_id"));
         p->set_replaces_hsa_id(r.Text("replaces_hsa_id"));
         if (!r.Text("member_kind").empty() && r.Text("member_kind") != "personal") {
           return FieldError("member_kind", "a fast vårdkontakt is staff: personal or empty");
         }
         return FillMember(r, /*kind_required=*/false, p->mutable_contact());
       }},
      {"hembesok_utfort",
       {"visit_id", "activity_id", "visit_reason", "alert_id", "started_at", "ended_at",
        "performer_hsa_ids", "performer_names", "performer_hsa_id", "performer_name",
        "performer_org_number", "outcome"},
       "started_at",
       FillHomeVisit},
      {"egenmatning",
       {"observation_id", "code_system", "code", "code_display", "value", "unit", "value_text",
        "measured_at", "device_id", "device_type_system", "device_type_code",
        "device_type_display", "device_manufacturer", "device_model", "activity_id"},
       "measured_at",
       FillSelfMonitoring},
  };
  return *kTypes;
}

}  // namespace

absl::StatusOr<RecordMapper> RecordMapper::Create(RecordMapperOptions options) {
  if (options.source_system.empty()) {
    return absl::InvalidArgumentError("source_system: required");
  }
  absl::TimeZone stockholm;
  if (!absl::LoadTimeZone("Europe/Stockholm", &stockholm)) {
    return absl::InternalError("cannot load the Europe/Stockholm time zone (install tzdata)");
  }
  return RecordMapper(std::move(options), stockholm);
}

std::vector<std::string_view> RecordMapper::RecordTypes() {
  std::vector<std::string_view> names;
  for (const RecordType& type : Types()) names.push_back(type.name);
  return names;
}

absl::StatusOr<MappedRecord> RecordMapper::Map(const std::vector<Field>& fields) const {
  const RecordView r(fields, stockholm_);
  ASSIGN_OR_RETURN(std::string format, r.RequiredText("format"));
  if (format != kFormatVersion1) {
    return FieldError("format", absl::StrCat("unsupported version (this adapter reads ",
                                             Sv(kFormatVersion1), ")"));
  }
  ASSIGN_OR_RETURN(std::string type_name, r.RequiredText("record_type"));
  const RecordType* type = nullptr;
  for (const RecordType& t : Types()) {
    if (t.name == type_name) type = &t;
  }
  if (type == nullptr) {
    return FieldError("record_type", "unknown or not supported; see FORMAT.md for the record types");
  }
  if (const Field* unknown = r.FirstUnknown(Concat(kCommonFields, type->fields))) {
    return FieldError(unknown->name, absl::StrCat("not a field of ", Sv(type->name)));
  }

  MappedRecord out;
  v1::CommandRequest& c = out.command;
  ASSIGN_OR_RETURN(*c.mutable_command_id(), r.RequiredText("record_id"));
  if (c.command_id().size() > 64) return FieldError("record_id", "longer than 64 bytes");
  c.set_source_message_id(c.command_id());
  c.set_correlation_id(r.Text("correlation_id"));

  const std::string& personnummer = r.Text("personnummer");
  const std::string& patient_id = r.Text("patient_id");
  if (personnummer.empty() == patient_id.empty()) {
    return FieldError("personnummer", "give exactly one of personnummer and patient_id");
  }
  if (!patient_id.empty()) {
    c.mutable_patient()->set_patient_id(patient_id);
    out.order_key = absl::StrCat("id:", patient_id);
  } else {
    const Clock* clock = options_.clock != nullptr ? options_.clock : Clock::Real();
    const absl::CivilDay today = absl::ToCivilDay(clock->Now(), stockholm_);
    absl::StatusOr<care::NationalId> id = options_.parser.Parse(personnummer, today);
    if (!id.ok()) return FieldError("personnummer", std::string(id.status().message()));
    v1::PatientIdentifier* identifier = c.mutable_patient()->mutable_identifier();
    switch (id->kind()) {
      case care::NationalIdKind::kPersonnummer:
        identifier->set_kind(v1::PATIENT_IDENTIFIER_KIND_PERSONNUMMER);
        break;
      case care::NationalIdKind::kSamordningsnummer:
        identifier->set_kind(v1::PATIENT_IDENTIFIER_KIND_SAMORDNINGSNUMMER);
        break;
      case care::NationalIdKind::kReservnummer:
        identifier->set_kind(v1::PATIENT_IDENTIFIER_KIND_RESERVNUMMER);
        break;
    }
    identifier->set_value(id->normalized());
    identifier->set_system(std::string(care::FhirIdentifierSystem(*id)));
    out.order_key = absl::StrCat("nid:", identifier->system(), ":", id->normalized());
  }

  ASSIGN_OR_RETURN(std::optional<v1::DataOwnerKind> owner, OwnerKind(r, "owner"));
  if (!owner.has_value()) return FieldError("owner", "required: SoL or HSL");
  c.mutable_data_owner()->set_kind(*owner);
  c.mutable_data_owner()->set_organisation_hsa_id(r.Text("owner_hsa_id"));

  v1::Source* source = c.mutable_source();
  source->set_system(r.Text("system").empty() ? options_.source_system : r.Text("system"));
  source->set_organisation_hsa_id(r.Text("unit_hsa_id"));
  if (!r.Text("author_hsa_id").empty() || !r.Text("author_name").empty()) {
    source->mutable_author()->set_hsa_id(r.Text("author_hsa_id"));
    source->mutable_author()->set_name(r.Text("author_name"));
  }

  RETURN_IF_ERROR(type->fill(r, c));

  RETURN_IF_ERROR(SetTime(r, "occurred_at", [&] { return c.mutable_occurred_at(); }));
  if (!c.has_occurred_at() && !type->time_field.empty()) {
    RETURN_IF_ERROR(SetTime(r, type->time_field, [&] { return c.mutable_occurred_at(); }));
  }
  if (!c.has_occurred_at()) {
    return FieldError("occurred_at", type->time_field.empty()
                                         ? "required"
                                         : absl::StrCat("required (or ", Sv(type->time_field), ")"));
  }
  return out;
}

}  // namespace carehub::municipal
