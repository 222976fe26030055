#!/usr/bin/env bash
# Idempotent set-up: installs the Debian packages that are missing, then configures and builds into
# build/. Safe to run any number of times; both README commands start here.
#   bash scripts/setup.sh           what the main job needs; builds the `gpt` program only
#   bash scripts/setup.sh --tests   plus what the test suite adds; builds everything (tests included)
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
[ "${1:-}" = "--tests" ] && tests=1

# Main job: compiler, CMake, BLAS (OpenMP build, so BLAS and our loops share one thread pool), HDF5,
# CLI11, nlohmann-json (metrics, tokenizer files, safetensors headers), PCRE2 (GPT-2's pre-tokenizer),
# cpp-httplib (gpt serve), OpenMPI (data-parallel training: mpirun -np N gpt train; optional at build
# time, dist/), and the default corpus (Debian's fortunes).
packages=(g++ cmake make pkg-config libopenblas-openmp-dev libhdf5-dev libcli11-dev nlohmann-json3-dev libpcre2-dev
          libcpp-httplib-dev libopenmpi-dev openmpi-bin fortunes-min fortunes)
# Tests: doctest; PyTorch and h5py as the independent reference; hdf5-tools for h5dump/h5diff;
# node + npm for GPT-2's tokenizer reference (the npm package gpt-3-encoder, below); chromium for gpt serve's
# browser test (driven by the npm package playwright-core, fetched by tests/scripts/serve_browser.sh).
((tests)) && packages+=(doctest-dev python3-torch python3-h5py hdf5-tools chromium)
# Not installed (optional): Graphviz (`apt-get install graphviz`), whose `dot` turns `gpt graph`'s DOT
# file into graph.svg; without it gpt graph writes the DOT file only.

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (the JavaScript tokenizer reference) may come from Debian or from NodeSource's
# package, which bundles npm: install Debian's only when the commands are absent.
if ((tests)); then
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
fi

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    # sudo resets the environment, so the variable goes after it, as an argument.
    if [ "$(id -u)" -eq 0 ]; then
        as_root=(env DEBIAN_FRONTEND=noninteractive)
    elif command -v sudo >/dev/null; then
        as_root=(sudo DEBIAN_FRONTEND=noninteractive)
    else
        echo "setup: error: installing ${missing[*]} needs root; run this script as root or install sudo" >&2
        exit 1
    fi
    "${as_root[@]}" apt-get update -qq >&2
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_type=${GPT_BUILD_TYPE:-Release}
build_dir=${GPT_BUILD_DIR:-build}
if ((tests)); then
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" -DGPT_BUILD_TESTS=ON ${GPT_CMAKE_ARGS:-} >/dev/null
    cmake --build "$build_dir" -j"$(nproc)" >&2  # stdout stays for what the commands print
else
    # The main job builds the program only; a build folder the tests configured keeps its tests.
    tests_flag=()
    [ -f "$build_dir/CMakeCache.txt" ] || tests_flag=(-DGPT_BUILD_TESTS=OFF)
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" "${tests_flag[@]}" ${GPT_CMAKE_ARGS:-} >/dev/null
    cmake --build "$build_dir" -j"$(nproc)" --target gpt >&2
fi
