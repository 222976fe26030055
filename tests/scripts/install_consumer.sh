#!/usr/bin/env bash
# The framework is a library: install it to a temporary prefix and build examples/consumer, a separate
# CMake project that does find_package(gpt_cpp) and trains one step of a tiny GPT.
set -euo pipefail
build=$1
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmake --install "$build" --prefix "$dir/prefix" > /dev/null
cmake -S "$source_dir/examples/consumer" -B "$dir/build" -DCMAKE_PREFIX_PATH="$dir/prefix" > "$dir/configure.log" 2>&1 \
    || { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir/build" > "$dir/build.log" 2>&1 || { cat "$dir/build.log"; exit 1; }
"$dir/build/consumer" | grep -q "^loss 2\.[0-9]*, 1000 parameters$"
echo "install + find_package consumer: ok"
