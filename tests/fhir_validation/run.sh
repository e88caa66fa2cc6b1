#!/usr/bin/env bash
# ctest entry: runs the projection tests with CAREHUB_FHIR_DUMP_DIR set, so that every resource
# version they project is written out, then validates all of them with both validators.
#   run.sh FHIR_TEST_BINARY [MORE_TEST_BINARIES...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/fhir" ] || [ ! -d "$here/node_modules/@medplum/core" ]; then
  echo "the validators are not installed: run 'npm ci --prefix $here' (scripts/test.sh does)" >&2
  exit 1
fi
dump="$(mktemp -d)"
trap 'rm -rf "$dump"' EXIT
for test_binary in "$@"; do
  CAREHUB_FHIR_DUMP_DIR="$dump" "$test_binary" --gtest_brief=1
done
node "$here/validate.mjs" "$dump" --min 100
