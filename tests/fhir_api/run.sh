#!/usr/bin/env bash
# ctest entry for the FHIR API driven by third-party clients:
#   run.sh CAREHUBD CAREHUB_SYNTH_REGION
# Writes a small synthetic region into a temp data dir, starts carehubd on free ports, waits for
# GET /health to report that the projector has caught up with the log, runs every
# tests/fhir_api/*.mjs with the FHIR base URL as first argument (each writes the response bodies
# it received into $FHIR_API_DUMP_DIR), validates all of them with FHIR.js and Medplum, stops
# carehubd with SIGTERM and checks that it exits 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
carehubd="$1"
synth="$2"
patients="${FHIR_API_TEST_PATIENTS:-30}"
for dir in "$here/node_modules/fhir-kit-client" "$here/../fhir_validation/node_modules/@medplum/core"; do
  if [ ! -d "$dir" ]; then
    echo "$dir is missing: run 'npm ci' in tests/fhir_api and tests/fhir_validation (scripts/test.sh does)" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$synth" --data_dir "$work/data" --patients "$patients" > "$work/synth.log" 2>&1 ||
  { cat "$work/synth.log" >&2; exit 1; }

"$carehubd" --data_dir "$work/data" --grpc_address=127.0.0.1:0 --http_address=127.0.0.1:0 \
  --municipal_http_address=127.0.0.1:0 --port_file "$work/grpc.port" --http_port_file "$work/http.port" 2> "$work/carehubd.log" &
pid=$!

# Wait for the HTTP port, then for the projector to reach the log's end (60 s at most).
for _ in $(seq 600); do
  [ -s "$work/http.port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/carehubd.log" >&2; exit 1; }
  sleep 0.1
done
port="$(cat "$work/http.port")"
base="http://127.0.0.1:$port/fhir"
ready=""
for _ in $(seq 600); do
  if node -e 'fetch(process.argv[1]).then(async (r) => { process.stdout.write(await r.text());
        process.exit(r.status === 200 ? 0 : 1); }).catch(() => process.exit(1))' \
      "http://127.0.0.1:$port/health" > "$work/health.json" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "the projector did not catch up:"; cat "$work/health.json"; exit 1; }
echo "carehubd serving $base; health: $(cat "$work/health.json")"

export FHIR_API_DUMP_DIR="$work/bodies"
mkdir -p "$FHIR_API_DUMP_DIR"
status=0
for script in "$here"/*.mjs; do
  echo "== $(basename "$script")"
  node "$script" "$base" || status=1
done

echo "== validating $(ls "$FHIR_API_DUMP_DIR" | wc -l) response bodies"
node "$here/../fhir_validation/validate.mjs" "$FHIR_API_DUMP_DIR" --min 20 || status=1

# The access log must never carry a query value: the clients searched by personnummer.
# (lib/harness.mjs records every identifier value a test put in a query in secrets.txt.)
if grep -E '19121212|191212121212' "$work/carehubd.log" ||
   { [ -s "$work/secrets.txt" ] && grep -F -f "$work/secrets.txt" "$work/carehubd.log"; }; then
  echo "FAIL an identifier sent in a query reached the log"
  status=1
fi

kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
if [ "$code" -ne 0 ]; then
  echo "FAIL carehubd exited $code after SIGTERM"
  tail -20 "$work/carehubd.log"
  status=1
fi
[ -f "$work/http.port" ] && { echo "FAIL the HTTP port file was not removed"; status=1; }
exit $status
