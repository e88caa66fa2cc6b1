#!/usr/bin/env bash
# The FHIR API benchmark, end to end: starts carehubd (a Release build) on a data directory that
# holds a region (carehub-synth-region --data_dir DIR --patients 100000), waits until the
# projector has caught up, and runs fhir_bench.mjs against it and against carehub-http-ceiling.
# Reads with the access log on (the default) are compared with reads of the same region with it
# off (--access_log=false): a second carehubd serves a RocksDB checkpoint of the data directory
# (`ldb checkpoint`: hard links to the immutable files, so it costs neither time nor space), and
# fhir_bench.mjs --versus sends reads to one hub and then the other in short slices, in pairs of
# alternating order (FHIR_BENCH_PAIRS, default 10, of FHIR_BENCH_SLICE_SECONDS, default 3). On a
# shared two-core machine whose speed drifts by tens of percent within minutes, runs of 10 s, one
# hub after the other, gave on/off ratios from 0.52 to 1.13 for the same build; slices a few
# seconds apart see the same machine. `bench name=read-access-log` gives the ratio of the totals.
# FHIR_BENCH_HUB_FLAGS adds carehubd flags to both hubs (e.g. --http_threads=1).
#   fhir_bench.sh BUILD_DIR DATA_DIR [fhir_bench.mjs flags...]
# The hubs' logs (one access line per request) go to DATA_DIR/../fhir-bench-carehubd.log.
# The "on" hub appends to DATA_DIR/access-log as it is: an access log grown by earlier runs brings
# its compactions into the measurement (one of a few hundred MB takes seconds of CPU), so its size
# is printed first; on benchmark data, remove it for comparable runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"; data="$2"; shift 2
log="$(dirname "$data")/fhir-bench-carehubd.log"
work="$(mktemp -d)"
# Beside the data: hard links need the same file system.
off_data="$(mktemp -d "$(dirname "$data")/.fhir-bench-off.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work" "$off_data"
}
trap cleanup EXIT

# start_hub DATA_DIR NAME "CAREHUBD_FLAGS": starts carehubd, waits for GET /health, and writes its
# FHIR base URL to $work/NAME.url.
start_hub() {
  local dir="$1" name="$2" hub_flags="$3"
  # shellcheck disable=SC2086
  "$build/services/carehubd/carehubd" --data_dir "$dir" --grpc_address=127.0.0.1:0 \
    --http_address=127.0.0.1:0 --municipal_http_address=127.0.0.1:0 \
    --http_port_file "$work/$name.port" $hub_flags ${FHIR_BENCH_HUB_FLAGS:-} 2>> "$log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do [ -s "$work/$name.port" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if [ ! -s "$work/$name.port" ]; then
    echo "carehubd ($name) did not start; its log: $log" >&2
    tail -3 "$log" >&2
    exit 1
  fi
  local port; port="$(cat "$work/$name.port")"
  echo "waiting for the projector of the hub with the access log $name (GET /health)..."
  until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1)).catch(() => process.exit(1))' \
      "http://127.0.0.1:$port/health"; do
    sleep 2
  done
  echo "http://127.0.0.1:$port/fhir" > "$work/$name.url"
}

: > "$log"
# The second hub's copy: everything but the access log, which it does not write.
for db in eventstore fhir; do
  ldb --db="$data/$db" --try_load_options checkpoint --checkpoint_dir="$off_data/$db" > /dev/null
done
for entry in "$data"/*; do
  case "$(basename "$entry")" in eventstore | fhir | access-log) ;; *) cp -a "$entry" "$off_data/" ;; esac
done
echo "the access log before the run: $(du -sh "$data/access-log" 2>/dev/null | cut -f1 || true)"
start_hub "$data" on ""
start_hub "$off_data" off "--access_log=false"
node "$here/fhir_bench.mjs" "$(cat "$work/on.url")" "$build/services/fhir/bench/carehub-http-ceiling" \
  --versus "$(cat "$work/off.url")" --pairs "${FHIR_BENCH_PAIRS:-10}" \
  --slice_seconds "${FHIR_BENCH_SLICE_SECONDS:-3}" "$@"
