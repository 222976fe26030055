#!/usr/bin/env bash
# The README as a test: every shell command in README.md's code blocks (and in docs/ pages' ```sh blocks) runs as written in a scratch
# copy of the working tree, offline, with only the substitutions listed in readme_commands.py
# (SUBSTITUTIONS: fewer steps, file:// instead of downloads, local fixtures). A failing command or a
# block of unknown kind fails the test.
#   bash tests/scripts/readme_commands.sh BUILD_DIR [PYTHON]
set -euo pipefail
build=${1:?usage: readme_commands.sh BUILD_DIR [PYTHON]}
python=${2:-/usr/bin/python3}
[ -x "$build/gpt" ] || { echo "readme_commands: $build/gpt is not built"; exit 77; }
[ -d /usr/share/games/fortunes ] || { echo "readme_commands: the default corpus (fortunes) is not installed"; exit 77; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$python" "$(dirname "$0")/readme_commands.py" "$build" "$python"
