#include "services/eventstore/bench/event_factory.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace carehub::bench {
namespace {

// Pads or trims `s` to exactly `n` bytes; the padding is free text, like a clinician's note.
std::string FitTo(std::string s, size_t n) {
  static constexpr std::string_view kNote =
      "Patient reports mild dyspnoea on exertion; no chest pain. Follow-up in two weeks. ";
  while (s.size() < n) s.append(kNote.substr(0, std::min(kNote.size(), n - s.size())));
  s.resize(n);
  return s;
}

}  // namespace

EventFactory::EventFactory(std::string run_nonce, int writer)
    : id_prefix_(absl::StrCat(run_nonce, "-", writer, "-")),
      random_(std::hash<std::string>{}(id_prefix_)) {
  data_pool_.reserve(kPoolSize);
  metadata_pool_.reserve(kPoolSize);
  for (size_t i = 0; i < kPoolSize; ++i) {
    data_pool_.push_back(MakeData());
    metadata_pool_.push_back(MakeMetadata());
  }
}

std::string EventFactory::RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (char& c : out) c = kHex[random_() & 15];
  return out;
}

std::string EventFactory::MakeData() {
  // Field names and codes as a serialized FHIR-ish Observation would carry them.
  std::string s = absl::StrFormat(
      "obs|id=%s|subject=Patient/%s|encounter=Encounter/%s|code=http://loinc.org#8867-4 "
      "Heart rate|value=%d /min|effective=2024-03-%02dT%02d:%02d:00+01:00|performer=%s|",
      RandomHex(16), RandomHex(12), RandomHex(12), 50 + random_() % 80, 1 + random_() % 28,
      random_() % 24, random_() % 60, RandomHex(8));
  return FitTo(std::move(s), kDataBytes);
}

std::string EventFactory::MakeMetadata() {
  std::string s = absl::StrCat("correlation_id=", RandomHex(32), ";causation_id=", RandomHex(32),
                               ";actor=svc-adt-ingest;");
  return FitTo(std::move(s), kMetadataBytes);
}

eventstore::ProposedEvent EventFactory::Next() {
  const size_t slot = sequence_ % kPoolSize;
  return eventstore::ProposedEvent{
      .event_id = absl::StrCat(id_prefix_, sequence_++),
      .type = std::string(kEventType),
      .data = data_pool_[slot],
      .metadata = metadata_pool_[slot],
  };
}

std::vector<eventstore::ProposedEvent> EventFactory::NextBatch(size_t count) {
  std::vector<eventstore::ProposedEvent> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) batch.push_back(Next());
  return batch;
}

std::string EventFactory::NextRawValue() {
  const size_t slot = sequence_++ % kPoolSize;
  return data_pool_[slot] + metadata_pool_[slot];
}

std::string MakeRunNonce() {
  std::random_device entropy;
  return absl::StrFormat("%08x", entropy());
}

}  // namespace carehub::bench
