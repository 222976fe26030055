# Shared by tests/scripts/failures_*.sh (named .bash so that CMake does not run it as a test).
# Usage in a script: source "$(dirname "$0")/failure_lib.bash" "$@"
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: bash SCRIPT BUILD_DIR [PYTHON]}" && pwd)
PYTHON=${2:-/usr/bin/python3}
GPT="$BUILD_DIR/gpt"
[ -x "$GPT" ] || { echo "FAIL: $GPT not built"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpt_failures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
failures=0
checks=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# A tiny model that trains in milliseconds; callers add --data, --out_dir, --max_iters.
TINY=(--n_layer 1 --n_head 2 --n_embd 16 --block_size 8 --batch_size 2 --eval_iters 2 --eval_interval 1000
      --log_interval 1 --sample_tokens 0 --threads 1 --lr_schedule constant --warmup_iters 0)

# The first 6 KB of fortunes (or generated text where the package is missing): enough for block_size 8.
make_corpus() {
    local out=$1 src=/usr/share/games/fortunes/fortunes
    if [ -r "$src" ]; then head -c 6000 "$src" > "$out"
    else for i in $(seq 1 200); do echo "line $i: the quick brown fox jumps over the lazy dog."; done > "$out"; fi
}

# expect_error NAME EXPECTED_RC PATTERN -- COMMAND...
# EXPECTED_RC is a number or "nonzero". Asserts the exit code, that standard error holds exactly one line
# starting with "error:", that it is the last line, that it contains PATTERN, and that there is no
# HDF5 error stack or C++ abort text.
expect_error() {
    local name=$1 want_rc=$2 pattern=$3
    shift 4
    checks=$((checks + 1))
    "$@" > "$WORK/stdout" 2> "$WORK/stderr"
    local rc=$?
    local errors last
    errors=$(grep -c '^error:' "$WORK/stderr")
    last=$(tail -n 1 "$WORK/stderr")
    if [ "$want_rc" = nonzero ] && [ "$rc" -eq 0 ]; then fail "$name: exit code 0, expected non-zero"; return; fi
    if [ "$want_rc" != nonzero ] && [ "$rc" -ne "$want_rc" ]; then fail "$name: exit code $rc, expected $want_rc"; sed 's/^/    /' "$WORK/stderr" | tail -5; return; fi
    if [ "$rc" -ge 128 ] && [ "$want_rc" = nonzero ]; then fail "$name: killed by a signal (rc $rc)"; return; fi
    if [ "$errors" -ne 1 ]; then fail "$name: $errors 'error:' lines, expected 1"; sed 's/^/    /' "$WORK/stderr" | tail -5; return; fi
    case "$last" in error:*) ;; *) fail "$name: the last line is not the error: '$last'"; return;; esac
    if ! grep -qF -- "$pattern" <<< "$last"; then fail "$name: message lacks '$pattern': $last"; return; fi
    if grep -qE 'HDF5-DIAG|terminate called|Segmentation|AddressSanitizer|runtime error:' "$WORK/stderr"; then
        fail "$name: diagnostics beyond the one line"; return; fi
    pass "$name (rc $rc): $last"
}

finish() {
    echo "$checks checked, $failures failed"
    [ "$failures" -eq 0 ]
}
