#!/usr/bin/env bash
# The include graph has no arrow that docs/design.md's picture does not draw (tests/scripts/layers.py),
# and the check itself can fail: a copy of the tree with one forbidden include added must be refused.
set -euo pipefail
python=${2:-python3}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
"$python" "$here/layers.py" "$src"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/docs"
cp "$src/docs/design.md" "$scratch/docs/"
for d in common autograd nn; do cp -r "$src/$d" "$scratch/"; done
"$python" "$here/layers.py" "$scratch" > /dev/null 2>&1 || true  # folders missing from the copy are fine to list
echo '#include "train/trainer.h"' >> "$scratch/nn/gpt.h"
if out=$("$python" "$here/layers.py" "$scratch" 2>&1); then
    echo "layers: a forbidden include (nn/ -> train/) was not caught" >&2
    exit 1
fi
grep -q "nn/gpt.h:.*may not include train/" <<<"$out" || { echo "layers: wrong message: $out" >&2; exit 1; }
echo "layers: a forbidden include is refused: ok"
