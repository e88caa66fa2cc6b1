#!/bin/sh
# Builds one libFuzzer target with clang (-fsanitize=fuzzer,address,undefined) and runs it for a
# bounded time over its committed seed corpus. Run by ctest (hl7v2_*_fuzz); new inputs libFuzzer
# finds go to a scratch corpus in the build tree, never into the source tree.
#   run_fuzz.sh <target> <source dir> <work dir> <seconds> [clang++]
set -eu
target=$1; src=$2; work=$3; seconds=$4; cxx=${5:-clang++}
mkdir -p "$work/corpus-$target"
# Only the codec sources: no protobuf, no gRPC, so clang links against Debian's Abseil alone.
"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/include" -I"$src/../../base/include" \
  "$src/fuzz/$target.cc" "$src/message.cc" "$src/mllp_framer.cc" "$src/ack.cc" "$src/timestamp.cc" \
  $(pkg-config --libs absl_status absl_statusor absl_strings absl_time) \
  -o "$work/$target"
"$work/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$work/corpus-$target" "$src/fuzz/corpus/$target"
