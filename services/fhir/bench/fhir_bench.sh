#!/usr/bin/env bash
# The FHIR API benchmark, end to end: starts carehubd (a Release build) on a data directory that
# holds a region (carehub-synth-region --data_dir DIR --patients 100000), waits until the
# projector has caught up, and runs fhir_bench.mjs against it and against carehub-http-ceiling.
# Reads are measured twice in the same run, with the access log off (--access_log=false) and on
# (the default), and the last line compares them.
#   fhir_bench.sh BUILD_DIR DATA_DIR [fhir_bench.mjs flags...]
# carehubd's log (one access line per request) goes to DATA_DIR/../fhir-bench-carehubd.log.
# The "on" run appends to DATA_DIR/access-log as it is: an access log grown by earlier runs brings
# its compactions into the measurement (one of a few hundred MB takes seconds of CPU), so its size
# is printed first; on benchmark data, remove it for comparable runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"; data="$2"; shift 2
log="$(dirname "$data")/fhir-bench-carehubd.log"
work="$(mktemp -d)"
pid=""
stop_hub() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
}
trap 'stop_hub; rm -rf "$work"' EXIT

# run_hub "CAREHUBD_FLAGS" OUTPUT_FILE MJS_FLAGS...: one carehubd, one fhir_bench.mjs run against it.
run_hub() {
  local hub_flags="$1" out="$2"; shift 2
  rm -f "$work/http.port"
  # shellcheck disable=SC2086
  "$build/services/carehubd/carehubd" --data_dir "$data" --grpc_address=127.0.0.1:0 \
    --http_address=127.0.0.1:0 --municipal_http_address=127.0.0.1:0 \
    --http_port_file "$work/http.port" $hub_flags 2>> "$log" &
  pid=$!
  for _ in $(seq 600); do [ -s "$work/http.port" ] && break; sleep 0.1; done
  local port; port="$(cat "$work/http.port")"
  echo "waiting for the projector (GET /health)..."
  until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1)).catch(() => process.exit(1))' \
      "http://127.0.0.1:$port/health"; do
    sleep 2
  done
  node "$here/fhir_bench.mjs" "http://127.0.0.1:$port/fhir" "$build/services/fhir/bench/carehub-http-ceiling" "$@" \
    | tee "$out"
  stop_hub
}

: > "$log"
echo "== reads with the access log off (--access_log=false)"
run_hub "--access_log=false" "$work/off.txt" "$@" --rows read
before="$(du -sh "$data/access-log" 2>/dev/null | cut -f1 || true)"
echo "== the access log on (the default); the access log before the run: ${before:-none}"
run_hub "" "$work/on.txt" "$@"
rps() { sed -n 's/^bench name=read rps=\([0-9]*\).*/\1/p' "$1"; }
off="$(rps "$work/off.txt")"; on="$(rps "$work/on.txt")"
awk -v on="$on" -v off="$off" 'BEGIN {
  printf "\n| read CarePlan by id | access log off | access log on | on/off |\n| --- | ---: | ---: | ---: |\n"
  printf "| req/s | %d | %d | %.2f |\n", off, on, on / off
  printf "bench name=read-access-log on_rps=%d off_rps=%d ratio=%.3f\n", on, off, on / off }'
