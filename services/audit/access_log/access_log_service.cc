#include "carehub/audit/access_log_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "carehub/base/status_macros.h"
#include "carehub/services/common/executor.h"
#include "carehub/services/common/grpc_status.h"
#include "carehub/services/eventstore_service.h"
#include "services/eventstore/client/internal/proto_mapping.h"
#include "services/eventstore/internal/proto_conversion.h"

namespace carehub::audit {
namespace {

namespace es = ::carehub::eventstore;
namespace espb = ::carehub::eventstore::v1;

// Workers for Find and Verify: auditors are few, and Verify reads the whole log.
constexpr size_t kWorkerThreads = 2;
// What a client waits for a hub to answer (Verify reads millions of entries).
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);
constexpr absl::Duration kCallTimeout = absl::Minutes(30);

void ToProto(const AccessEntry& entry, v1::AccessEntry* proto) {
  proto->set_position(entry.position);
  services::internal::ToProto(entry.recorded, proto->mutable_recorded());
  proto->set_user(entry.agent.user_hsa_id);
  proto->set_organization(entry.agent.organization_hsa_id);
  proto->set_care_unit(entry.agent.care_unit_hsa_id);
  proto->set_interaction(entry.interaction);
  proto->set_operation(entry.operation);
  proto->set_resource_type(entry.resource_type);
  proto->set_status(entry.status);
  for (const std::string& patient : entry.patients) proto->add_patients(patient);
  for (const AccessedResource& r : entry.resources) {
    v1::AccessedResource* resource = proto->add_resources();
    resource->set_type(r.type);
    resource->set_id(r.id);
    resource->set_version(r.version);
  }
}

AccessEntry FromProto(const v1::AccessEntry& proto) {
  AccessEntry entry;
  entry.position = proto.position();
  entry.recorded = services::internal::FromProto(proto.recorded());
  entry.agent = {.user_hsa_id = proto.user(),
                 .organization_hsa_id = proto.organization(),
                 .care_unit_hsa_id = proto.care_unit()};
  entry.interaction = proto.interaction();
  entry.operation = proto.operation();
  entry.resource_type = proto.resource_type();
  entry.status = proto.status();
  entry.patients.assign(proto.patients().begin(), proto.patients().end());
  for (const v1::AccessedResource& r : proto.resources()) {
    entry.resources.push_back({r.type(), r.id(), r.version()});
  }
  return entry;
}

absl::StatusOr<AccessQuery> FromProto(const v1::FindAccessRequest& proto) {
  if (proto.limit() == 0 || proto.limit() > kMaxAccessPage) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1..", kMaxAccessPage));
  }
  AccessQuery query;
  if (!proto.patient().empty()) query.patient = proto.patient();
  if (!proto.agent().empty()) query.agent = proto.agent();
  if (proto.has_from()) query.from = services::internal::FromProto(proto.from());
  if (proto.has_to()) query.to = services::internal::FromProto(proto.to());
  if (query.to <= query.from) return absl::InvalidArgumentError("to must be later than from");
  query.limit = proto.limit();
  if (proto.has_before()) query.before = proto.before();
  return query;
}

v1::FindAccessRequest ToProto(const AccessQuery& query) {
  v1::FindAccessRequest proto;
  if (query.patient.has_value()) proto.set_patient(*query.patient);
  if (query.agent.has_value()) proto.set_agent(*query.agent);
  if (query.from != absl::InfinitePast()) services::internal::ToProto(query.from, proto.mutable_from());
  if (query.to != absl::InfiniteFuture()) services::internal::ToProto(query.to, proto.mutable_to());
  proto.set_limit(static_cast<uint32_t>(std::min(query.limit, kMaxAccessPage)));
  if (query.before.has_value()) proto.set_before(*query.before);
  return proto;
}

grpc::Status Failed(std::string_view rpc, const absl::Status& status) {
  return services::ToGrpcStatusLogged("access_log.rpc.failed", rpc, status);
}

// The access log of a hub in another process.
class RemoteAccessLog final : public AccessLogReader {
 public:
  RemoteAccessLog(std::string target, const std::shared_ptr<grpc::Channel>& channel)
      : target_(std::move(target)), stub_(v1::AccessLog::NewStub(channel)) {}

  absl::StatusOr<AccessPage> Find(const AccessQuery& query) override {
    if (query.limit == 0) return absl::InvalidArgumentError("the limit must be at least 1");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    v1::FindAccessResponse response;
    RETURN_IF_ERROR(Check(stub_->Find(&context, ToProto(query), &response)));
    AccessPage page;
    for (const v1::AccessEntry& entry : response.entries()) page.entries.push_back(FromProto(entry));
    if (response.has_next_before()) page.next_before = response.next_before();
    return page;
  }

  absl::StatusOr<es::VerifyResult> Verify(std::optional<es::LogHead> from) override {
    espb::VerifyRequest request;
    if (from.has_value()) services::eventstore_client_internal::ToProto(*from, request.mutable_from());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    espb::VerifyResponse response;
    RETURN_IF_ERROR(Check(stub_->Verify(&context, request, &response)));
    return services::eventstore_client_internal::FromProto(response);
  }

 private:
  absl::Status Check(const grpc::Status& status) const {
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      return absl::UnavailableError(absl::StrCat("the hub at ", target_,
                                                 " serves no access log (it runs with --access_log=false)"));
    }
    return services::FromGrpcStatus(status);
  }

  std::string target_;
  std::unique_ptr<v1::AccessLog::Stub> stub_;
};

}  // namespace

AccessLogService::AccessLogService(AccessLog* log)
    : log_(log), executor_(std::make_unique<services::Executor>(kWorkerThreads)) {}

AccessLogService::~AccessLogService() { executor_->Shutdown(); }

grpc::ServerUnaryReactor* AccessLogService::Find(grpc::CallbackServerContext* context,
                                                 const v1::FindAccessRequest* request,
                                                 v1::FindAccessResponse* response) {
  return services::FinishOnExecutor(*executor_, context, [this, request, response] {
    absl::StatusOr<AccessQuery> query = FromProto(*request);
    if (!query.ok()) return services::ToGrpcStatus(query.status());
    absl::StatusOr<AccessPage> page = log_->Find(*query);
    if (!page.ok()) return Failed("Find", page.status());
    for (const AccessEntry& entry : page->entries) ToProto(entry, response->add_entries());
    if (page->next_before.has_value()) response->set_next_before(*page->next_before);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AccessLogService::Verify(grpc::CallbackServerContext* context,
                                                   const espb::VerifyRequest* request,
                                                   espb::VerifyResponse* response) {
  return services::FinishOnExecutor(*executor_, context, [this, request, response] {
    return services::VerifyLog(log_->store(), *request, response);
  });
}

absl::StatusOr<std::unique_ptr<AccessLogReader>> ConnectAccessLog(const std::string& target) {
  if (target.empty()) return absl::InvalidArgumentError("the hub's address is empty");
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + kConnectTimeout))) {
    return absl::UnavailableError(absl::StrCat("the hub at ", target, " is not reachable within ",
                                               absl::FormatDuration(kConnectTimeout)));
  }
  return std::make_unique<RemoteAccessLog>(target, channel);
}

}  // namespace carehub::audit
