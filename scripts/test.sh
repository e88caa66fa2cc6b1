#!/usr/bin/env bash
# Installs the dependencies, builds carehub with AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs every test with ctest. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# Third-party test tools from npm (FHIR validators, a FHIR client, FHIRPath, an MLLP client, a
# load generator), at the versions pinned in each lock file, into the project.
for dir in tests/fhir_validation tests/fhir_api tests/hl7v2; do
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
done
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_SANITIZE=ON
cmake --build build-asan -j2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CAREHUB_LOG_LEVEL=${CAREHUB_LOG_LEVEL:-warning}
cd build-asan
ctest --output-on-failure -j2 --timeout 900
