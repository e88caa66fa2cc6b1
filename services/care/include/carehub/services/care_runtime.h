// CareRuntime: the care service as a process runs it, the same in carehub-care and carehubd —
// the hub key under `care_dir` (created on first start), the payment-responsibility agreements,
// CareCommands over the event store, the Lag (2017:612) deadline checks on a timer, and the gRPC
// service to register.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CareRuntime> care,
//                    CareRuntime::Start(store.get(), {.care_dir = data_dir / "care"}));
//   server.AddService(care->service(), care::v1::CareService::service_full_name());
//
// Errors: Internal if `care_dir` cannot be created; those of LoadOrCreateHubKey,
// LoadPaymentAgreements and CareCommands::Create.
//
// Destroy only after the grpc::Server the service is registered with has shut down; the event
// store must outlive it.
#ifndef CAREHUB_SERVICES_CARE_RUNTIME_H_
#define CAREHUB_SERVICES_CARE_RUNTIME_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/care/care_commands.h"
#include "carehub/care/deadline_scheduler.h"
#include "carehub/care/patient_id.h"
#include "carehub/eventstore/event_store.h"
#include "carehub/services/care_service.h"

namespace carehub::services {

struct CareRuntimeOptions {
  // Holds hub.key, the key of the identifier registry.
  std::string care_dir;
  // The agreements file (see carehub/care/payment_agreements.h); empty: none.
  std::string payment_agreements_file;
  absl::Duration deadline_check_interval = absl::Minutes(1);
};

class CareRuntime {
 public:
  // `store` is not owned.
  static absl::StatusOr<std::unique_ptr<CareRuntime>> Start(eventstore::EventStore* store,
                                                            const CareRuntimeOptions& options);
  CareRuntime(const CareRuntime&) = delete;
  CareRuntime& operator=(const CareRuntime&) = delete;

  CareService* service() { return service_.get(); }
  care::CareCommands* commands() { return commands_.get(); }

 private:
  CareRuntime() = default;

  // Destroyed bottom-up: the service, the deadline checks, the commands, the id generator.
  std::unique_ptr<care::PatientIdGenerator> patient_ids_;
  std::unique_ptr<care::CareCommands> commands_;
  std::unique_ptr<care::DeadlineScheduler> deadlines_;
  std::unique_ptr<CareService> service_;
};

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_CARE_RUNTIME_H_
