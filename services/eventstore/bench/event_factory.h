// EventFactory: realistic events for the benchmark. Each has a unique id, a ~300-byte data
// payload shaped like a serialized care event (codes, timestamps, references and free text:
// compressible about as well as the real thing) and ~100 bytes of metadata (correlation and
// causation ids, the writing service).
//
//   EventFactory events(/*run_nonce=*/"r7f3", /*writer=*/12);
//   ProposedEvent e = events.Next();
//
// Ids are "<nonce>-<writer>-<sequence>", so writers never collide and runs never replay.
// Payloads are drawn in turn from a pool of kPoolSize distinct ones generated up front, so making
// an event costs a copy, not a formatting job inside the measured loop, while neighbouring events
// (in one RocksDB block) still differ as real ones do.
// Not thread-safe: one factory per writer.
#ifndef CAREHUB_SERVICES_EVENTSTORE_BENCH_EVENT_FACTORY_H_
#define CAREHUB_SERVICES_EVENTSTORE_BENCH_EVENT_FACTORY_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "carehub/eventstore/types.h"

namespace carehub::bench {

inline constexpr size_t kDataBytes = 300;
inline constexpr size_t kMetadataBytes = 100;
inline constexpr std::string_view kEventType = "carehub.care.v1.ObservationRecorded";
inline constexpr size_t kPoolSize = 64;

class EventFactory {
 public:
  EventFactory(std::string run_nonce, int writer);

  eventstore::ProposedEvent Next();
  std::vector<eventstore::ProposedEvent> NextBatch(size_t count);

  // A value of kDataBytes + kMetadataBytes shaped like Next()'s payload, for the raw RocksDB
  // baselines, which must write the same bytes per record as the store does per event.
  std::string NextRawValue();

 private:
  std::string MakeData();
  std::string MakeMetadata();
  std::string RandomHex(size_t n);

  std::string id_prefix_;
  uint64_t sequence_ = 0;
  std::mt19937_64 random_;
  std::vector<std::string> data_pool_;
  std::vector<std::string> metadata_pool_;
};

// A short random token that makes this run's event ids and stream ids unique.
std::string MakeRunNonce();

}  // namespace carehub::bench

#endif  // CAREHUB_SERVICES_EVENTSTORE_BENCH_EVENT_FACTORY_H_
