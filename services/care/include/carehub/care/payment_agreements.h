// Payment-responsibility agreements (Lag (2017:612), betalningsansvar) as configuration: one
// agreement version per line, so that a region's new agreement is a new line, not a new release,
// and deadlines computed under an old version stay reproducible.
//
//   # agreement_id                 version  valid_from  days  day_type  cut_off  daily_rate_sek
//   vastmanland-betalningsansvar   2024-1   2024-01-01  3     calendar  12       9135.00
//   vastmanland-betalningsansvar   2026-1   2026-03-01  2     working   24       9600
//
// valid_from is a local date (Europe/Stockholm, from its midnight); day_type is "calendar" or
// "working"; cut_off is the local hour (0..24) from which a notice counts as received the next
// day; the rate is in kronor with at most two decimals. '#' starts a comment; blank lines are
// ignored.
#ifndef CAREHUB_CARE_PAYMENT_AGREEMENTS_H_
#define CAREHUB_CARE_PAYMENT_AGREEMENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "carehub/care/deadlines.h"

namespace carehub::care {

// Parses the text above. InvalidArgument naming the line and the field.
absl::StatusOr<std::vector<PaymentAgreement>> ParsePaymentAgreements(std::string_view text);

// Reads and parses a file; NotFound if it does not exist.
absl::StatusOr<std::vector<PaymentAgreement>> LoadPaymentAgreements(const std::string& path);

}  // namespace carehub::care

#endif  // CAREHUB_CARE_PAYMENT_AGREEMENTS_H_
