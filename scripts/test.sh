#!/usr/bin/env bash
# Installs the dependencies, builds carehub with AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs every test with ctest. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# The third-party FHIR validators, at the versions pinned in the lock file, into the project.
npm ci --prefix tests/fhir_validation --no-audit --no-fund --loglevel=error
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_SANITIZE=ON
cmake --build build-asan -j2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CAREHUB_LOG_LEVEL=${CAREHUB_LOG_LEVEL:-warning}
cd build-asan
ctest --output-on-failure -j2 --timeout 900
