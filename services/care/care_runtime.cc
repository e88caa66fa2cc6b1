#include "carehub/services/care_runtime.h"

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "carehub/base/clock.h"
#include "carehub/base/status_macros.h"
#include "carehub/care/hub_key.h"
#include "carehub/care/payment_agreements.h"

namespace carehub::services {

absl::StatusOr<std::unique_ptr<CareRuntime>> CareRuntime::Start(
    eventstore::EventStore* store, const CareRuntimeOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.care_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.care_dir, ": ", error.message()));
  }
  ASSIGN_OR_RETURN(std::string hub_key,
                   care::LoadOrCreateHubKey(
                       (std::filesystem::path(options.care_dir) / "hub.key").string()));
  std::vector<care::PaymentAgreement> payment_agreements;
  if (!options.payment_agreements_file.empty()) {
    ASSIGN_OR_RETURN(payment_agreements,
                     care::LoadPaymentAgreements(options.payment_agreements_file));
  }
  std::unique_ptr<CareRuntime> runtime(new CareRuntime());
  runtime->patient_ids_ = care::NewUrandomPatientIdGenerator();
  ASSIGN_OR_RETURN(runtime->commands_,
                   care::CareCommands::Create(store, {.clock = Clock::Real(),
                                                      .ids = runtime->patient_ids_.get(),
                                                      .hub_key = std::move(hub_key),
                                                      .payment_agreements =
                                                          std::move(payment_agreements)}));
  runtime->deadlines_ = std::make_unique<care::DeadlineScheduler>(
      runtime->commands_.get(), Clock::Real(), options.deadline_check_interval);
  runtime->service_ = std::make_unique<CareService>(runtime->commands_.get());
  return runtime;
}

}  // namespace carehub::services
