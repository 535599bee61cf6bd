#!/usr/bin/env bash
# nnc's one entry point for developers and CI. Every command installs what is missing first.
#   ./dev.sh run     build (release) and run the main job on the example models
#   ./dev.sh test    build (release) and run the test suite
#   ./dev.sh asan    build and run the test suite under AddressSanitizer + UBSan
#   ./dev.sh bench   build (release) and run the benchmarks (not part of the tests)
#   ./dev.sh bench-fusion [--batch B] [--runs R] [--threads T] [FILE.nn...]
#                    build (release) and time every example and bench/models/ pattern with and
#                    without fusion: speed-ups and tensor traffic saved
#   ./dev.sh bench-gemm [--threads T] [--reps R] [--batch B]
#                    build (release) and time nnc's JIT GEMM beside oneDNN: the FMA peak, GEMM
#                    shapes, conv layers and whole example networks
#   ./dev.sh bench-ops  build (release) and measure what one AVX-512 operation costs beside
#                    the activation loops' cost per vector
#   ./dev.sh build   build (release) only
#   ./dev.sh format  clang-format every source file
set -euo pipefail
cd "$(dirname "$0")"

build() { # preset
  scripts/setup.sh
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
}

main_job() { # compile and run every example network on random weights
  local nnc=build/release/tools/nnc/nnc
  "$nnc" check examples/*.nn
  "$nnc" bench examples/*.nn --random-weights 42 --batch 1
  "$nnc" bench examples/*.nn --random-weights 42 --batch 16
}

case "${1:-}" in
  run) build release && main_job ;;
  test) build release && ctest --preset release -j "$(nproc)" ;;
  asan) build asan-ubsan && ctest --preset asan-ubsan -j "$(nproc)" ;;
  build) build release ;;
  bench) build release && build/release/bench/nnc_activation_bench "${@:2}" ;;
  bench-fusion) build release && build/release/bench/nnc_fusion_bench "${@:2}" ;;
  bench-gemm) build release && build/release/bench/nnc_gemm_bench "${@:2}" ;;
  bench-ops) build release && build/release/bench/nnc_op_cost_bench ;;
  format) git ls-files '*.cpp' '*.h' | xargs clang-format -i ;;
  *)
    sed -n '2,16p' "$0"
    exit 2
    ;;
esac
