#!/usr/bin/env bash
# scripts/toy_tasks.py: the same seed writes the same files; valid and test sources never occur in train;
# every line is source<TAB>target; known conversions are right; a bad option is one line, exit non-zero.
# Usage: toy_tasks.sh BUILD_DIR [PYTHON]
set -u
SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${2:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$PYTHON" "$SOURCE_DIR/scripts/toy_tasks.py" --out "$WORK/a" --train 300 --valid 50 --test 60 > /dev/null || fail "first run"
"$PYTHON" "$SOURCE_DIR/scripts/toy_tasks.py" --out "$WORK/b" --train 300 --valid 50 --test 60 > /dev/null || fail "second run"
diff -r "$WORK/a" "$WORK/b" > /dev/null || fail "the same seed wrote different files"
"$PYTHON" "$SOURCE_DIR/scripts/toy_tasks.py" --out "$WORK/c" --seed 30 --tasks reverse --train 300 --valid 50 --test 60 > /dev/null
cmp -s "$WORK/a/reverse/train.tsv" "$WORK/c/reverse/train.tsv" && fail "another seed wrote the same reverse/train.tsv"

for task in reverse numbers dates addition; do
    for split in train valid test; do
        f="$WORK/a/$task/$split.tsv"
        [ -s "$f" ] || { fail "$task/$split.tsv missing"; continue; }
        bad=$(awk -F'\t' 'NF != 2 || $1 == "" || $2 == ""' "$f" | wc -l)
        [ "$bad" -eq 0 ] || fail "$task/$split.tsv: $bad lines are not source<TAB>target"
    done
    [ "$(wc -l < "$WORK/a/$task/train.tsv")" -eq 300 ] || fail "$task/train.tsv does not have 300 lines"
    [ "$(wc -l < "$WORK/a/$task/test.tsv")" -eq 60 ] || fail "$task/test.tsv does not have 60 lines"
    overlap=$(cut -f1 "$WORK/a/$task/train.tsv" | sort -u | comm -12 - <(cut -f1 "$WORK/a/$task/valid.tsv" "$WORK/a/$task/test.tsv" | sort -u) | wc -l)
    [ "$overlap" -eq 0 ] || fail "$task: $overlap held-out sources also occur in train"
done

# Known conversions, and every line of each task consistent with its rule.
"$PYTHON" - "$SOURCE_DIR/scripts" "$WORK/a" <<'PY' || fail "conversions"
import datetime, sys
sys.path.insert(0, sys.argv[1])
from toy_tasks import number_words
assert number_words(0) == "zero" and number_words(15) == "fifteen" and number_words(40) == "forty"
assert number_words(1042) == "one thousand forty-two", number_words(1042)
assert number_words(999999) == "nine hundred ninety-nine thousand nine hundred ninety-nine"
assert number_words(300100) == "three hundred thousand one hundred"
for line in open(f"{sys.argv[2]}/reverse/test.tsv"):
    s, t = line.rstrip("\n").split("\t"); assert t == s[::-1]
for line in open(f"{sys.argv[2]}/addition/test.tsv"):
    s, t = line.rstrip("\n").split("\t"); a, b = s.split("+"); assert int(t) == int(a) + int(b)
for line in open(f"{sys.argv[2]}/numbers/test.tsv"):
    s, t = line.rstrip("\n").split("\t"); assert t == number_words(int(s))
for line in open(f"{sys.argv[2]}/dates/test.tsv"):
    s, t = line.rstrip("\n").split("\t"); d = datetime.date.fromisoformat(s)
    assert t == f"{d.day} {d.strftime('%B')} {d.year}", (s, t)
PY

err=$("$PYTHON" "$SOURCE_DIR/scripts/toy_tasks.py" --out "$WORK/d" --tasks reverse,poetry 2>&1 >/dev/null)
rc=$?
{ [ $rc -ne 0 ] && [ "$err" = "toy_tasks.py: --tasks: unknown task 'poetry' (known: reverse, numbers, dates, addition)" ]; } ||
    fail "unknown task: rc $rc, '$err'"

if [ $failures -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "toy_tasks: all checks passed"
