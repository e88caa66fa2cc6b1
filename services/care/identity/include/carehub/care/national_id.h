// Swedish national patient identifiers: parsing, validation and normalisation of personnummer,
// samordningsnummer and (configured) reservnummer, and their FHIR and HL7 v2 identifier systems.
//
//   NationalIdParser parser;  // personnummer and samordningsnummer only
//   absl::StatusOr<NationalId> id = parser.Parse("121212-1212", absl::CivilDay(2010, 6, 1));
//   // id->kind() == NationalIdKind::kPersonnummer, id->normalized() == "191212121212"
//   // FhirIdentifierSystem(*id) == "http://electronichealth.se/identifier/personnummer"
//
// A national identifier is sensitive (DOMAIN.md, "Identifiers"): it never goes into a log line,
// a stream id, a key or a file name. So NationalId has no stream operator and no AbslStringify;
// use Masked() where a human must see which identifier was meant. Error messages from this file
// never contain the identifier: at most its date part ("19121212-****"), its length, or the name of
// the check that failed.
//
// Rules (Folkbokföringslagen 18 §, 18 a §; Skatteverket's guidance):
//   - personnummer: YYMMDD-NNNC or YYYYMMDDNNNC; the separator is '-' or, from the year the person
//     turns 100, '+'; it may be left out. C is the Luhn (modulus 10, weights 2,1) check digit over
//     the 9 digits before it (the last 10 digits, without the century). The date must exist and
//     must not be after the reference date. (When a birth date has run out of numbers Skatteverket
//     may use a nearby day of the same month: the date is a valid date, not necessarily the birth
//     date.)
//   - samordningsnummer: as personnummer with 60 added to the day (61..91).
//   - 10 digits: the century is resolved against a reference date the caller supplies (today in
//     Europe/Stockholm, from the injected Clock), never read from the system clock here:
//       '-' or no separator: the latest date with these YYMMDD not after the reference date
//                            (so 0..99 years old);
//       '+':                 the latest year with these YY that is at least 100 years before the
//                            reference year (the person turns 100 or more in the reference year).
//   - 12 digits: the century is given; a separator, if present, is ignored.
//   - leading and trailing ASCII whitespace is ignored; nothing else is tolerated.
//
// Reservnummer: there is no national format. Each region (or care provider) issues its own
// stand-in numbers while a person's identity is unknown: some are 12 digits with an impossible date
// or a reserved prefix, some put a letter among the serial digits, and their check digits (if any)
// differ. We therefore assume nothing: a reservnummer is accepted only if it matches one of the
// ReservnummerFormats the deployment configures, no check digit is verified, and its identity is
// the pair (format's system, normalised value), since the same string may mean different people in
// two regions. A string that is a valid personnummer or samordningsnummer is always parsed as one:
// configure formats that cannot collide with them (a letter, or an impossible date).
#ifndef CAREHUB_CARE_NATIONAL_ID_H_
#define CAREHUB_CARE_NATIONAL_ID_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace carehub::care {

enum class NationalIdKind {
  kPersonnummer,
  kSamordningsnummer,
  kReservnummer,
};

// "personnummer", "samordningsnummer", "reservnummer".
std::string_view NationalIdKindName(NationalIdKind kind);

// A validated, normalised identifier. A value type; only NationalIdParser creates one.
class NationalId {
 public:
  NationalIdKind kind() const { return kind_; }

  // Personnummer and samordningsnummer: 12 digits, YYYYMMDDNNNC, no separator (the samordnings-
  // nummer keeps its day + 60). Reservnummer: the input upper-cased, without hyphens.
  const std::string& normalized() const { return normalized_; }

  // For reservnummer: the name of the ReservnummerFormat that matched; empty otherwise.
  const std::string& format_name() const { return format_name_; }

  // A form that is safe to show in logs and error messages: "19121212-****" for personnummer and
  // samordningsnummer, "reservnummer <format name>" for reservnummer.
  std::string Masked() const;

  friend bool operator==(const NationalId&, const NationalId&) = default;

 private:
  friend class NationalIdParser;
  NationalId(NationalIdKind kind, std::string normalized)
      : kind_(kind), normalized_(std::move(normalized)) {}

  NationalIdKind kind_;
  std::string normalized_;
  // Reservnummer only: copied from the matching format.
  std::string format_name_;
  std::string fhir_system_;
  std::string hl7v2_oid_;

  friend std::string_view FhirIdentifierSystem(const NationalId& id);
  friend std::string_view Hl7v2Oid(const NationalId& id);
};

// The FHIR Identifier.system (HL7 Sweden base profiles):
//   personnummer      -> "http://electronichealth.se/identifier/personnummer"
//   samordningsnummer -> "http://electronichealth.se/identifier/samordningsnummer"
//   reservnummer      -> the matching format's fhir_system (empty if it has none).
std::string_view FhirIdentifierSystem(const NationalId& id);

// The OID used as the HL7 v2 assigning authority (CX-4) and in RIV-TA:
//   personnummer      -> "1.2.752.129.2.1.3.1"
//   samordningsnummer -> "1.2.752.129.2.1.3.3"
//   reservnummer      -> the matching format's hl7v2_oid (empty if it has none).
std::string_view Hl7v2Oid(const NationalId& id);

// The same for a kind, for matching PID-3 repetitions or FHIR identifiers before parsing. Returns
// an empty string for kReservnummer, whose system depends on the issuing region.
std::string_view FhirIdentifierSystem(NationalIdKind kind);
std::string_view Hl7v2Oid(NationalIdKind kind);

// One regional reservnummer format.
struct ReservnummerFormat {
  // A short name for configuration and masked output, e.g. "region-vastmanland".
  std::string name;
  // Matched against the whole trimmed input, upper-cased. One character per input character:
  //   '#'  a digit            '@'  a letter A-Z            '*'  a digit or a letter A-Z
  //   '-'  an optional hyphen (dropped from the normalised form)
  //   any other digit or letter: itself (letters match either case).
  // E.g. "99########-####" or "########-@###".
  std::string pattern;
  // The identifier system the issuing region publishes (FHIR URI or "urn:oid:..."), and the OID for
  // HL7 v2; either may be empty if the region has none.
  std::string fhir_system;
  std::string hl7v2_oid;
};

// Parses and validates national identifiers. Immutable after creation, so thread-safe.
class NationalIdParser {
 public:
  // Accepts personnummer and samordningsnummer only.
  NationalIdParser() = default;

  // Accepts also reservnummer of the given formats, tried in order. Returns InvalidArgument if a
  // format has an empty name or pattern, a pattern character outside the grammar, or a name used
  // twice.
  static absl::StatusOr<NationalIdParser> Create(std::vector<ReservnummerFormat> formats);

  // Parses any accepted kind. Returns InvalidArgument, naming the reason (empty, bad characters,
  // bad length, separator in the wrong place, impossible date, date after the reference date, bad
  // checksum, or no reservnummer format matched) and never the identifier.
  // `reference_date` is today in Europe/Stockholm; it resolves the century of 10-digit forms.
  absl::StatusOr<NationalId> Parse(std::string_view input, absl::CivilDay reference_date) const;

  // Parses only the given kind, e.g. when PID-3's assigning authority says which kind it is.
  // A samordningsnummer given as kPersonnummer (or the reverse) is InvalidArgument.
  absl::StatusOr<NationalId> ParseAs(NationalIdKind kind, std::string_view input,
                                     absl::CivilDay reference_date) const;

 private:
  explicit NationalIdParser(std::vector<ReservnummerFormat> formats)
      : formats_(std::move(formats)) {}

  absl::StatusOr<NationalId> ParseReservnummer(std::string_view trimmed) const;

  std::vector<ReservnummerFormat> formats_;
};

}  // namespace carehub::care

#endif  // CAREHUB_CARE_NATIONAL_ID_H_
