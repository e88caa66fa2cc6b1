// ConnectEventStore: an eventstore::EventStore whose log lives in another process, reached over
// gRPC (carehub.eventstore.v1.EventStore). The care service, the FHIR projector and the audit
// CLI take an eventstore::EventStore; handing them this one instead of EventStore::Open()'s
// makes them work unchanged against a remote log.
//
//   ClientOptions options;
//   options.call_timeout = absl::Seconds(10);
//   ASSIGN_OR_RETURN(std::unique_ptr<eventstore::EventStore> store,
//                    ConnectEventStore("127.0.0.1:50051", options));
//   ASSIGN_OR_RETURN(eventstore::AppendResult r,
//                    store->Append("patient-1f0c", eventstore::ExpectedVersion::NoStream(), {e}));
//
// Every method maps 1:1 onto an RPC and keeps the library's contract (event_store.h), with
// these differences that a network brings:
//   - Errors carry the server's code unchanged, plus the transport's own: Unavailable when the
//     server cannot be reached (within connect_timeout) or is shutting down, DeadlineExceeded
//     when a call outlives its deadline, ResourceExhausted for a request over the server's size
//     bound. An expected-version conflict is a FailedPrecondition that AppendConflict() reads,
//     exactly as from the in-process store.
//   - Nothing is retried behind the caller's back except a subscription's stream: Append is
//     idempotent by event id, so the caller may retry an Unavailable append safely.
//   - A Subscription keeps going across dropped streams and server restarts: it re-subscribes
//     from its last checkpoint with exponential backoff, so it delivers no gap and no duplicate.
//     It ends only on Cancel(), on a permanent error from the server (e.g. InvalidArgument),
//     or when the client is destroyed (Next() then returns Unavailable, as when a store closes).
//
// Thread-safety: the store is thread-safe; subscriptions are as event_store.h says. Destroy the
// subscriptions before the store; a subscription that outlives it only reports Unavailable.
#ifndef CAREHUB_SERVICES_EVENTSTORE_CLIENT_H_
#define CAREHUB_SERVICES_EVENTSTORE_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "carehub/eventstore/event_store.h"

namespace carehub::services {

struct ClientOptions {
  // Deadlines per call, from the moment the method is called.
  absl::Duration append_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(30);    // ReadStream, ReadAll, StreamVersion, Head
  absl::Duration verify_timeout = absl::Minutes(10);  // walks the whole log
  // With wait_for_ready, a call made while the channel is connecting or reconnecting waits for
  // it, up to connect_timeout (and never past the call's deadline), instead of failing at once;
  // if the channel is not ready by then the call fails with Unavailable. Without it, a call on a
  // channel that is not connected fails at once with Unavailable.
  bool wait_for_ready = true;
  absl::Duration connect_timeout = absl::Seconds(5);
  // ConnectEventStore() itself waits up to connect_timeout for a first connection and fails
  // with Unavailable if there is none; false returns at once and connects lazily.
  bool connect_eagerly = true;
  // Largest response accepted; keep it above the server's response bound (3 MiB by default)
  // plus one maximal event (1 MiB by default).
  int max_receive_message_bytes = 64 << 20;
  // Subscriptions: responses buffered ahead of the consumer. When the buffer is full the reader
  // stops reading, and gRPC's flow control slows the server's stream for this subscriber only.
  size_t subscription_buffer_batches = 8;
  // Backoff between re-subscriptions after a stream ends with a retryable error (starts at the
  // initial value, doubles up to the maximum, resets once a response arrives), and the bounds of
  // the channel's own reconnection backoff (gRPC's default grows to two minutes).
  absl::Duration reconnect_initial_backoff = absl::Milliseconds(100);
  absl::Duration reconnect_max_backoff = absl::Seconds(5);
};

// Creates a client for the event store service at `target` (a gRPC target such as
// "127.0.0.1:50051" or "dns:///eventstore:50051"), over an insecure channel. Fails with
// InvalidArgument for an empty target, and with Unavailable when connect_eagerly is set and no
// connection is made within connect_timeout.
absl::StatusOr<std::unique_ptr<eventstore::EventStore>> ConnectEventStore(
    const std::string& target, const ClientOptions& options);

}  // namespace carehub::services

#endif  // CAREHUB_SERVICES_EVENTSTORE_CLIENT_H_
