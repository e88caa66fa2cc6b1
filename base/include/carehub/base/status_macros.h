// Status propagation helpers. Abseil 20220623 has no RETURN_IF_ERROR, so carehub defines its own
// here, once.
//
//   RETURN_IF_ERROR(store->Append(...).status());
//   ASSIGN_OR_RETURN(auto events, store->ReadAll(request));
#ifndef CAREHUB_BASE_STATUS_MACROS_H_
#define CAREHUB_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CAREHUB_CONCAT_INNER_(a, b) a##b
#define CAREHUB_CONCAT_(a, b) CAREHUB_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status carehub_status_ = (expr);           \
    if (!carehub_status_.ok()) return carehub_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  CAREHUB_ASSIGN_OR_RETURN_IMPL_(CAREHUB_CONCAT_(carehub_statusor_, __LINE__), lhs, expr)

#define CAREHUB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // CAREHUB_BASE_STATUS_MACROS_H_
