#!/usr/bin/env bash
# Idempotent set-up: installs the Debian packages this project needs when they are missing, then
# configures and builds into build/. Safe to run any number of times; the README's commands start here.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, CMake, BLAS (OpenMP build, so BLAS and our loops share one thread pool), HDF5, CLI11,
# PCRE2 (GPT-2's Unicode pre-split), nlohmann-json (tokenizer files, safetensors headers).
# Tests: doctest; PyTorch and h5py as the independent reference; hdf5-tools for h5dump/h5diff;
# node + npm for GPT-2's tokenizer reference (the npm package gpt-3-encoder).
# Data: fortunes-min + fortunes, the default corpus (freely licensed English text from Debian).
packages=(g++ cmake make pkg-config libopenblas-openmp-dev libhdf5-dev hdf5-tools libcli11-dev doctest-dev
          libpcre2-dev nlohmann-json3-dev python3-torch python3-h5py fortunes-min fortunes)
# node and npm may come from elsewhere (e.g. nodesource's nodejs, which bundles npm and conflicts with
# Debian's npm): install Debian's only when the commands are missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_type=${GPT_BUILD_TYPE:-Release}
build_dir=${GPT_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" ${GPT_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j"$(nproc)" >&2  # stdout stays for what the commands print (the sample)
