// CarePlan, Goal and Appointment: plan agreed / revised / closed, goals, activities (insatser),
// agreed times and SIP meetings.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "fhir/internal/projections.h"

namespace carehub::fhir::internal {
namespace {

using care::v1::CareEvent;

std::string ActivityElementId(std::string_view activity_id) {
  return ResourceId("activity", activity_id);
}

// The plan of a care_plan_id; FailedPrecondition-free: a plan that was never opened by an
// enrolment is created as a draft, so that an event order the care service allows never stalls
// the projector.
absl::StatusOr<Json*> Plan(ProjectionContext& ctx, std::string_view care_plan_id) {
  ASSIGN_OR_RETURN(Json * plan, ctx.FindOrCreate("CarePlan", ResourceId("CarePlan", care_plan_id)));
  if (!plan->contains("status")) {
    (*plan)["identifier"] = Json::array({HubIdentifier("care-plan-id", care_plan_id)});
    (*plan)["status"] = "draft";
    (*plan)["intent"] = "plan";
    (*plan)["subject"] = ctx.PatientRef();
  }
  return plan;
}

// The activity element of `activity_id` in its plan; nullptr if the activity is unknown.
absl::StatusOr<Json*> Activity(ProjectionContext& ctx, std::string_view activity_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> link,
                   ctx.State(absl::StrCat("activity/", Sv(activity_id))));
  if (!link.has_value()) return nullptr;
  std::vector<std::string> parts = absl::StrSplit(*link, '\t');
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, parts[0]));
  const std::string element_id = ActivityElementId(activity_id);
  for (Json& activity : ArrayMember(*plan, "activity")) {
    if (activity.value("id", "") == element_id) return &activity;
  }
  return nullptr;
}

absl::Status SetActivityStatus(ProjectionContext& ctx, std::string_view activity_id,
                               std::string_view status, std::string_view reason) {
  ASSIGN_OR_RETURN(Json * activity, Activity(ctx, activity_id));
  if (activity == nullptr) return absl::OkStatus();  // an activity this projection never saw
  Json& detail = (*activity)["detail"];
  detail["status"] = std::string(status);
  if (reason.empty()) {
    detail.erase("statusReason");
  } else {
    detail["statusReason"] = {{"text", std::string(reason)}};
  }
  return absl::OkStatus();
}

Json Timing(const care::v1::Schedule& s) {
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  Json repeat = Json::object();
  if (IsSet(s.start()) || IsSet(s.end())) {
    Json bounds = Json::object();
    if (auto start = Instant(s.start())) bounds["start"] = *start;
    if (auto end = Instant(s.end())) bounds["end"] = *end;
    repeat["boundsPeriod"] = bounds;
  }
  if (s.frequency() > 0 && s.period() > 0) {
    const char* unit = nullptr;
    switch (s.period_unit()) {
      case care::v1::Schedule::PERIOD_UNIT_HOUR:
        unit = "h";
        break;
      case care::v1::Schedule::PERIOD_UNIT_DAY:
        unit = "d";
        break;
      case care::v1::Schedule::PERIOD_UNIT_WEEK:
        unit = "wk";
        break;
      case care::v1::Schedule::PERIOD_UNIT_MONTH:
        unit = "mo";
        break;
      default:
        break;
    }
    if (unit != nullptr) {
      repeat["frequency"] = s.frequency();
      repeat["period"] = s.period();
      repeat["periodUnit"] = unit;
    }
  }
  for (uint32_t day : s.days_of_week()) {
    if (day >= 1 && day <= 7) ArrayMember(repeat, "dayOfWeek").push_back(kDays[day - 1]);
  }
  for (const std::string& t : s.times_of_day()) {
    ArrayMember(repeat, "timeOfDay").push_back(absl::StrCat(t, t.size() == 5 ? ":00" : ""));
  }
  Json timing = Json::object();
  if (!repeat.empty()) timing["repeat"] = repeat;
  if (!s.text().empty()) timing["code"] = {{"text", s.text()}};
  return timing;
}

absl::Status ActivityPlanned(ProjectionContext& ctx, const care::v1::ActivityPlanned& e) {
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, e.care_plan_id()));
  const std::string link_key = absl::StrCat("activity/", e.activity_id());
  ASSIGN_OR_RETURN(std::optional<std::string> link, ctx.State(link_key));
  if (!link.has_value() && e.in_home()) {
    const std::string home_key = absl::StrCat("home-activities/", ctx.event().patient_id());
    ASSIGN_OR_RETURN(std::optional<std::string> home, ctx.State(home_key));
    ctx.SetState(home_key, absl::StrCat(home.value_or(""), e.activity_id(), "\n"));
  }
  ctx.SetState(link_key, absl::StrCat(e.care_plan_id(), "\t", e.in_home() ? "1" : "0"));
  const std::string element_id = ActivityElementId(e.activity_id());
  for (const Json& a : ArrayMember(*plan, "activity")) {
    if (a.value("id", "") == element_id) return absl::OkStatus();  // planned already
  }
  Json detail = Json::object();
  if (!e.code().code().empty() || !e.code().display().empty()) detail["code"] = ConceptOf(e.code());
  for (const std::string& goal_id : e.goal_ids()) {
    ArrayMember(detail, "goal").push_back(Ref("Goal", ResourceId("Goal", goal_id)));
  }
  detail["status"] = "not-started";
  Json timing = Timing(e.schedule());
  if (!timing.empty()) detail["scheduledTiming"] = timing;
  Json performer = OrganizationRef(e.performer());
  if (!performer.is_null()) detail["performer"] = Json::array({performer});
  if (e.in_home()) detail["location"] = {{"display", "Patientens hem"}};
  if (!e.description().empty()) detail["description"] = e.description();
  Json activity = Json::object();
  activity["id"] = element_id;
  activity["detail"] = detail;
  ArrayMember(*plan, "activity").push_back(activity);
  return absl::OkStatus();
}

absl::Status ActivityCompleted(ProjectionContext& ctx, const care::v1::ActivityCompleted& e) {
  RETURN_IF_ERROR(SetActivityStatus(ctx, e.activity_id(), "completed", ""));
  ASSIGN_OR_RETURN(Json * activity, Activity(ctx, e.activity_id()));
  if (activity != nullptr && !e.outcome().empty()) {
    ArrayMember(*activity, "progress")
        .push_back({{"time", ctx.OccurredAt()}, {"text", e.outcome()}});
  }
  return absl::OkStatus();
}

Json PartyResponsible(const care::v1::Party& party) {
  Json ref = OrganizationRef(party.organisation());
  if (ref.is_null()) ref = {{"display", PartyRoleDisplay(party.role())}};
  return ref;
}

absl::Status CarePlanAgreed(ProjectionContext& ctx, const care::v1::CarePlanAgreed& e) {
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, e.care_plan_id()));
  (*plan)["status"] = "active";
  if (e.is_sip()) {
    Json& categories = ArrayMember(*plan, "category");
    Json sip = HubConcept(hub::kSip);
    if (std::find(categories.begin(), categories.end(), sip) == categories.end()) {
      categories.push_back(sip);
    }
  }
  if (!e.title().empty()) (*plan)["title"] = e.title();
  if (!e.description().empty()) (*plan)["description"] = e.description();
  if (!plan->contains("period")) (*plan)["period"] = {{"start", ctx.OccurredAt()}};
  // CarePlan.author is "the individual or organisation responsible for the plan": the party
  // holding overall responsibility (huvudansvar) as SIP requires.
  if (e.has_overall_responsibility())
    (*plan)["author"] = PartyResponsible(e.overall_responsibility());
  Json person = PractitionerRef(e.responsible_person());
  Json& contributors = ArrayMember(*plan, "contributor");
  if (!person.is_null() &&
      std::find(contributors.begin(), contributors.end(), person) == contributors.end()) {
    contributors.push_back(person);
  }
  for (const care::v1::Party& party : e.agreed_by()) {
    Json ref = PartyResponsible(party);
    if (std::find(contributors.begin(), contributors.end(), ref) == contributors.end()) {
      contributors.push_back(ref);
    }
  }
  if (contributors.empty()) plan->erase("contributor");
  // The team stops being a proposal when the plan is agreed.
  ASSIGN_OR_RETURN(std::optional<std::string> team_id,
                   ctx.State(absl::StrCat("plan-team/", e.care_plan_id())));
  if (team_id.has_value()) {
    ASSIGN_OR_RETURN(Json * team, ctx.Find("CareTeam", ResourceId("CareTeam", *team_id)));
    if (team != nullptr && (*team)["status"] == "proposed") (*team)["status"] = "active";
  }
  return absl::OkStatus();
}

absl::Status CarePlanRevised(ProjectionContext& ctx, const care::v1::CarePlanRevised& e) {
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, e.care_plan_id()));
  if (e.has_overall_responsibility())
    (*plan)["author"] = PartyResponsible(e.overall_responsibility());
  Json person = PractitionerRef(e.responsible_person());
  if (!person.is_null()) {
    Json& contributors = ArrayMember(*plan, "contributor");
    if (std::find(contributors.begin(), contributors.end(), person) == contributors.end()) {
      contributors.push_back(person);
    }
  }
  // A revision is a new version even with nothing else to say: the note records it.
  Json note = {{"time", ctx.OccurredAt()},
               {"text", e.summary().empty() ? std::string("Planen reviderad") : e.summary()}};
  ArrayMember(*plan, "note").push_back(note);
  return absl::OkStatus();
}

absl::Status CarePlanClosed(ProjectionContext& ctx, const care::v1::CarePlanClosed& e) {
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, e.care_plan_id()));
  const bool error = e.closure() == care::v1::CARE_PLAN_CLOSURE_ENTERED_IN_ERROR;
  (*plan)["status"] = error ? "entered-in-error" : "completed";
  (*plan)["period"]["end"] = ctx.OccurredAt();
  if (!e.reason().empty()) {
    ArrayMember(*plan, "note").push_back({{"time", ctx.OccurredAt()}, {"text", e.reason()}});
  }
  ASSIGN_OR_RETURN(std::optional<std::string> team_id,
                   ctx.State(absl::StrCat("plan-team/", e.care_plan_id())));
  if (team_id.has_value()) {
    ASSIGN_OR_RETURN(Json * team, ctx.Find("CareTeam", ResourceId("CareTeam", *team_id)));
    if (team != nullptr) {
      (*team)["status"] = error ? "entered-in-error" : "inactive";
      (*team)["period"]["end"] = ctx.OccurredAt();
    }
  }
  return absl::OkStatus();
}

absl::Status GoalSet(ProjectionContext& ctx, const care::v1::GoalSet& e) {
  const std::string goal_id = ResourceId("Goal", e.goal_id());
  ASSIGN_OR_RETURN(Json * goal, ctx.FindOrCreate("Goal", goal_id));
  (*goal)["identifier"] = Json::array({HubIdentifier("goal-id", e.goal_id())});
  (*goal)["lifecycleStatus"] = "active";
  (*goal)["description"] = {{"text", e.description()}};
  (*goal)["subject"] = ctx.PatientRef();
  (*goal)["startDate"] = ctx.OccurredAt().substr(0, 10);
  Json target = Json::object();
  if (!e.target().empty()) {
    // gol-1: a target with a detail needs a measure.
    target["measure"] = {{"text", e.target()}};
    target["detailString"] = e.target();
  }
  if (auto due = Instant(e.due())) target["dueDate"] = due->substr(0, 10);
  if (!target.empty()) (*goal)["target"] = Json::array({target});
  if (e.has_owner()) {
    (*goal)["note"] =
        Json::array({{{"text", absl::StrCat("Ansvarig part: ", PartyRoleDisplay(e.owner().role()),
                                            e.owner().organisation().name().empty() ? "" : ", ",
                                            e.owner().organisation().name())}}});
  }
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, e.care_plan_id()));
  Json& goals = ArrayMember(*plan, "goal");
  Json ref = Ref("Goal", goal_id);
  if (std::find(goals.begin(), goals.end(), ref) == goals.end()) goals.push_back(ref);
  return absl::OkStatus();
}

absl::Status GoalStatusChanged(ProjectionContext& ctx, const care::v1::GoalStatusChanged& e) {
  static constexpr const char* kLifecycle[] = {
      "", "proposed", "active", "on-hold", "completed", "cancelled", "entered-in-error"};
  static constexpr const char* kAchievement[] = {"",          "in-progress", "improving",
                                                 "worsening", "achieved",    "not-achieved"};
  ASSIGN_OR_RETURN(Json * goal, ctx.Find("Goal", ResourceId("Goal", e.goal_id())));
  if (goal == nullptr) return absl::OkStatus();
  const int lifecycle = static_cast<int>(e.lifecycle());
  if (lifecycle > 0 && lifecycle < 7) (*goal)["lifecycleStatus"] = kLifecycle[lifecycle];
  const int achievement = static_cast<int>(e.achievement());
  if (achievement > 0 && achievement < 6) {
    (*goal)["achievementStatus"] = Concept("http://terminology.hl7.org/CodeSystem/goal-achievement",
                                           kAchievement[achievement], "");
  }
  (*goal)["statusDate"] = ctx.OccurredAt().substr(0, 10);
  if (!e.note().empty()) {
    ArrayMember(*goal, "note").push_back({{"time", ctx.OccurredAt()}, {"text", e.note()}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ScheduleActivity(ProjectionContext& ctx, std::string_view activity_id) {
  ASSIGN_OR_RETURN(Json * activity, Activity(ctx, activity_id));
  if (activity == nullptr) return absl::OkStatus();
  Json& detail = (*activity)["detail"];
  if (detail.value("status", "") == "not-started") detail["status"] = "scheduled";
  return absl::OkStatus();
}

absl::Status AddActivityProgress(ProjectionContext& ctx, std::string_view activity_id,
                                 std::string_view text) {
  ASSIGN_OR_RETURN(Json * activity, Activity(ctx, activity_id));
  if (activity == nullptr || text.empty()) return absl::OkStatus();
  ArrayMember(*activity, "progress")
      .push_back({{"time", ctx.OccurredAt()}, {"text", std::string(text)}});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ActivityPlanId(ProjectionContext& ctx,
                                                          std::string_view activity_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> link,
                   ctx.State(absl::StrCat("activity/", Sv(activity_id))));
  if (!link.has_value()) return std::optional<std::string>();
  std::vector<std::string> parts = absl::StrSplit(*link, '\t');
  return std::optional<std::string>(parts[0]);
}

absl::Status AddActivityReference(ProjectionContext& ctx, std::string_view care_plan_id,
                                  const Json& ref) {
  if (care_plan_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Json * plan, Plan(ctx, care_plan_id));
  Json activity = {{"reference", ref}};
  Json& activities = ArrayMember(*plan, "activity");
  if (std::find(activities.begin(), activities.end(), activity) == activities.end()) {
    activities.push_back(activity);
  }
  return absl::OkStatus();
}

absl::Status PauseHomeActivities(ProjectionContext& ctx, std::string_view encounter_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> home,
                   ctx.State(absl::StrCat("home-activities/", ctx.event().patient_id())));
  if (!home.has_value()) return absl::OkStatus();
  const std::string key = absl::StrCat("stay-paused/", Sv(encounter_id));
  ASSIGN_OR_RETURN(std::optional<std::string> paused_before, ctx.State(key));
  std::string paused = paused_before.value_or("");
  for (absl::string_view id : absl::StrSplit(*home, '\n', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(Json * activity, Activity(ctx, std::string_view(id.data(), id.size())));
    if (activity == nullptr) continue;
    Json& detail = (*activity)["detail"];
    const std::string status = detail.value("status", "");
    if (status != "not-started" && status != "scheduled" && status != "in-progress") continue;
    absl::StrAppend(&paused, id, "\t", status, "\n");
    detail["status"] = "on-hold";
    detail["statusReason"] = {{"text", "Inskriven i slutenvård"}};
  }
  ctx.SetState(key, paused);
  return absl::OkStatus();
}

absl::Status ResumeHomeActivities(ProjectionContext& ctx, std::string_view encounter_id) {
  const std::string key = absl::StrCat("stay-paused/", Sv(encounter_id));
  ASSIGN_OR_RETURN(std::optional<std::string> paused, ctx.State(key));
  if (!paused.has_value() || paused->empty()) return absl::OkStatus();
  for (absl::string_view line : absl::StrSplit(*paused, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> entry = absl::StrSplit(line, '\t');
    ASSIGN_OR_RETURN(Json * activity, Activity(ctx, entry.first));
    if (activity == nullptr) continue;
    Json& detail = (*activity)["detail"];
    // Only what the stay paused: an activity ended meanwhile stays ended.
    if (detail.value("status", "") != "on-hold") continue;
    detail["status"] = entry.second;
    detail.erase("statusReason");
  }
  ctx.SetState(key, "");
  return absl::OkStatus();
}

absl::Status ProjectPlanEvent(ProjectionContext& ctx, const CareEvent& e) {
  switch (e.payload_case()) {
    case CareEvent::kCarePlanAgreed:
      return CarePlanAgreed(ctx, e.care_plan_agreed());
    case CareEvent::kCarePlanRevised:
      return CarePlanRevised(ctx, e.care_plan_revised());
    case CareEvent::kCarePlanClosed:
      return CarePlanClosed(ctx, e.care_plan_closed());
    case CareEvent::kGoalSet:
      return GoalSet(ctx, e.goal_set());
    case CareEvent::kGoalStatusChanged:
      return GoalStatusChanged(ctx, e.goal_status_changed());
    case CareEvent::kActivityPlanned:
      return ActivityPlanned(ctx, e.activity_planned());
    case CareEvent::kActivityStarted:
      return SetActivityStatus(ctx, e.activity_started().activity_id(), "in-progress", "");
    case CareEvent::kActivityPaused:
      return SetActivityStatus(ctx, e.activity_paused().activity_id(), "on-hold",
                               e.activity_paused().reason());
    case CareEvent::kActivityResumed:
      return SetActivityStatus(ctx, e.activity_resumed().activity_id(), "in-progress", "");
    case CareEvent::kActivityCompleted:
      return ActivityCompleted(ctx, e.activity_completed());
    case CareEvent::kActivityCancelled:
      return SetActivityStatus(ctx, e.activity_cancelled().activity_id(), "cancelled",
                               e.activity_cancelled().reason());
    default:
      return absl::InternalError("not a plan event");
  }
}

}  // namespace carehub::fhir::internal
