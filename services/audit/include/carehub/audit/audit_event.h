// An access-log entry as a FHIR R4 AuditEvent (http://hl7.org/fhir/R4/auditevent.html): the one
// rendering that both the FHIR API (GET /fhir/AuditEvent) and `carehub-audit access-log
// --format=ndjson` use.
//
//   std::string json = AuditEventJson(entry);  // compact, one line
//
// The rendering:
//   id           the entry's position in the access log
//   type         rest (audit-event-type); subtype the restful interaction, and for an operation
//                also its definition's URL (urn:ietf:rfc:3986)
//   action       R for read, vread and history; E for search and operations (the spec's
//                "perform a query/search operation")
//   recorded     when the entry was made durable, i.e. just before the response was sent
//   outcome      0 for a 2xx/3xx answer, 4 for 4xx, 8 for 5xx
//   agent        the user (requestor, who.identifier HSA-id), then the care unit and the
//                organisation (who.identifier HSA-id, Reference.type Organization); an anonymous
//                request has one agent whose who.display is "anonymous"
//   source       observer "carehub", type 4 (application server)
//   entity       each patient (what: Patient/<id>, type 1 person, role 1 patient), then each
//                resource of the response (what: Type/id/_history/version, type 2 system object)
//
// Thread-safety: stateless.
#ifndef CAREHUB_AUDIT_AUDIT_EVENT_H_
#define CAREHUB_AUDIT_AUDIT_EVENT_H_

#include <string>

#include "carehub/audit/access_log.h"

namespace carehub::audit {

// The HSA-id system (DOMAIN.md: urn:oid:1.2.752.29.4.19).
inline constexpr char kHsaIdSystem[] = "urn:oid:1.2.752.29.4.19";

std::string AuditEventJson(const AccessEntry& entry);

}  // namespace carehub::audit

#endif  // CAREHUB_AUDIT_AUDIT_EVENT_H_
