#!/usr/bin/env bash
# The FHIR API benchmark, end to end: starts carehubd (a Release build) on a data directory that
# holds a region (carehub-synth-region --data_dir DIR --patients 100000), waits until the
# projector has caught up, and runs fhir_bench.mjs against it and against carehub-http-ceiling.
# Reads are measured with the access log off (--access_log=false) and on (the default) in
# alternating rounds (FHIR_BENCH_ROUNDS, default 3): on a shared two-core machine the throughput
# of one 10 s row moves by +-20 % between runs, so one pair proves little. Each round's on/off
# ratio is printed; the last line gives their median. The last round also measures search and
# history with the access log on.
# FHIR_BENCH_HUB_FLAGS adds carehubd flags to every run (e.g. --http_threads=1).
#   [FHIR_BENCH_ROUNDS=N] fhir_bench.sh BUILD_DIR DATA_DIR [fhir_bench.mjs flags...]
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
    --http_port_file "$work/http.port" $hub_flags ${FHIR_BENCH_HUB_FLAGS:-} 2>> "$log" &
  pid=$!
  for _ in $(seq 600); do [ -s "$work/http.port" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if [ ! -s "$work/http.port" ]; then
    echo "carehubd did not start; its log: $log" >&2
    tail -3 "$log" >&2
    exit 1
  fi
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
rounds="${FHIR_BENCH_ROUNDS:-3}"
rps() { sed -n 's/^bench name=read rps=\([0-9]*\).*/\1/p' "$1"; }
: > "$work/rounds.txt"
for round in $(seq "$rounds"); do
  echo "== round $round/$rounds: reads with the access log off (--access_log=false)"
  run_hub "--access_log=false" "$work/off.txt" "$@" --rows read
  before="$(du -sh "$data/access-log" 2>/dev/null | cut -f1 || true)"
  echo "== round $round/$rounds: the access log on (the default); the access log before the run: ${before:-none}"
  if [ "$round" -eq "$rounds" ]; then
    run_hub "" "$work/on.txt" "$@"
  else
    run_hub "" "$work/on.txt" "$@" --rows read
  fi
  echo "$round $(rps "$work/off.txt") $(rps "$work/on.txt")" >> "$work/rounds.txt"
done
awk '{ printf "%.3f\n", $3 / $2 }' "$work/rounds.txt" | sort -n > "$work/ratios.txt"
awk 'BEGIN {
       printf "\n| round | read CarePlan by id, access log off | access log on | on/off |\n"
       printf "| ---: | ---: | ---: | ---: |\n" }
     { printf "| %d | %d | %d | %.3f |\n", $1, $2, $3, $3 / $2 }' "$work/rounds.txt"
awk '{ r[NR] = $1 }
     END {
       median = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
       printf "bench name=read-access-log rounds=%d median_ratio=%.3f min=%.3f max=%.3f\n", NR, median, r[1], r[NR] }' \
  "$work/ratios.txt"
