#!/usr/bin/env bash
# The FHIR API benchmark, end to end: starts carehubd (a Release build) on a data directory that
# holds a region (carehub-synth-region --data_dir DIR --patients 100000), waits until the
# projector has caught up, and runs fhir_bench.mjs against it and against carehub-http-ceiling.
#   fhir_bench.sh BUILD_DIR DATA_DIR [fhir_bench.mjs flags...]
# carehubd's log (one access line per request) goes to DATA_DIR/../fhir-bench-carehubd.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"; data="$2"; shift 2
log="$(dirname "$data")/fhir-bench-carehubd.log"
work="$(mktemp -d)"
"$build/services/carehubd/carehubd" --data_dir "$data" --grpc_address=127.0.0.1:0 \
  --http_address=127.0.0.1:0 --http_port_file "$work/http.port" 2> "$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 600); do [ -s "$work/http.port" ] && break; sleep 0.1; done
port="$(cat "$work/http.port")"
echo "waiting for the projector (GET /health)..."
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1)).catch(() => process.exit(1))' \
    "http://127.0.0.1:$port/health"; do
  sleep 2
done
node "$here/fhir_bench.mjs" "http://127.0.0.1:$port/fhir" "$build/services/fhir/bench/carehub-http-ceiling" "$@"
