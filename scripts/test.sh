#!/usr/bin/env bash
# The README's test command: set up (idempotent), build, run the whole suite (ctest), then the
# sanitizer build (ASan + UBSan) over the suite as well (docs/reliability.md).
#   GPT_SKIP_SANITIZE=1 bash scripts/test.sh   skips the sanitizer stage (a quick local run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
# setup.sh installed torch and h5py: a PyTorch-reference test that cannot import them is now a failure,
# not a skip (tests/reference_python.h), in this run and in the sanitizer run below.
export GPT_REQUIRE_TORCH=1
ctest --test-dir build --output-on-failure

[ "${GPT_SKIP_SANITIZE:-0}" = 1 ] && exit 0
# -O1 -g1 (what ASan's authors recommend), not Debug: the numeric tests run ~10x slower at -O0 under
# ASan; -g1 line tables are enough for the reports and keep the build short. Asserts stay on.
# Leak detection is off: OpenBLAS's and libgomp's thread pools and libhdf5's free lists are still
# allocated at exit by design and would be reported as leaks of the program (docs/reliability.md).
# UBSan findings abort the test (-fno-sanitize-recover=undefined in CMakeLists.txt).
# allocator_may_return_null=1: an allocation the system cannot serve returns null, as malloc does without
# ASan, so the out-of-memory paths (OutOfMemory, libhdf5's allocation errors) are tested as users meet them.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DGPT_SANITIZE=ON -DGPT_BUILD_BENCH=OFF > /dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure --timeout 600
