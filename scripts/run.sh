#!/usr/bin/env bash
# Installs the dependencies, builds carehub (Release) and starts carehubd in the foreground with
# its embedded defaults: data under ./var/carehub, gRPC on 127.0.0.1:50051.
# Extra arguments go to carehubd (e.g. --grpc_address=0.0.0.0:50051).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAREHUB_BUILD_TESTS=OFF
cmake --build build -j2
mkdir -p var/carehub
exec build/services/carehubd/carehubd --data_dir=var/carehub "$@"
