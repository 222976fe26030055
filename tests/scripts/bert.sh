#!/usr/bin/env bash
# model = bert, the user's journey: gpt train --model bert (tiny, seconds) → gpt fill → gpt eval (masked
# loss and accuracy; a GPT's --masked_accuracy on the same positions) → gpt report; and the bad inputs of that journey,
# each one "error:" line and a non-zero exit.
source "$(dirname "$0")/failure_lib.bash" "$@"
cd "$WORK"
make_corpus tiny.txt
tail -c 1500 tiny.txt > held_out.txt
SMALL=()  # TINY without its --block_size (given below)
for ((i = 0; i < ${#TINY[@]}; i++)); do
    if [ "${TINY[i]}" = --block_size ]; then i=$((i + 1)); else SMALL+=("${TINY[i]}"); fi
done

checks=$((checks + 1))
if "$GPT" train "${SMALL[@]}" --model bert --block_size 12 --max_iters 20 --data tiny.txt \
    --out_dir bert > train.log 2>&1; then pass "train --model bert"
else fail "train --model bert"; tail -5 train.log; fi
checks=$((checks + 1))
grep -q '^model = "bert"' bert/config.toml && pass "config.toml records model = bert" || fail "config.toml lacks model = \"bert\""
checks=$((checks + 1))
"$GPT" train "${TINY[@]}" --max_iters 20 --data tiny.txt --out_dir gpt > gpt_train.log 2>&1 && pass "train gpt" || fail "train gpt"

# fill: the text, then per [MASK] a header and --top candidate lines with percentages.
checks=$((checks + 1))
if "$GPT" fill --checkpoint bert --text "a [MASK]e [MASK]" --top 3 > fill.txt 2> fill.err; then
    headers=$(grep -c '^\[MASK\] [12] of 2 ' fill.txt)
    candidates=$(grep -cE '^ +[123]\. .* +[0-9]+\.[0-9]{2} %$' fill.txt)
    if [ "$(head -1 fill.txt)" = "a [MASK]e [MASK]" ] && [ "$headers" -eq 2 ] && [ "$candidates" -eq 6 ]; then
        pass "fill: 2 masks, 3 candidates each"
    else fail "fill output:"; cat fill.txt; fi
else fail "fill exited non-zero: $(cat fill.err)"; fi

# eval: a bert checkpoint reports its masked accuracy; a gpt one with --masked_accuracy on the same positions.
checks=$((checks + 1))
bert_json=$("$GPT" eval --checkpoint bert --data held_out.txt 2>/dev/null)
gpt_json=$("$GPT" eval --checkpoint gpt --data held_out.txt --masked_accuracy 2>/dev/null)
plain_json=$("$GPT" eval --checkpoint gpt --data held_out.txt 2>/dev/null)
if "$PYTHON" - "$bert_json" "$gpt_json" "$plain_json" <<'PY'; then pass "eval: bert and gpt masked accuracy"; else fail "eval JSON: $bert_json / $gpt_json / $plain_json"; fi
import json, sys
bert, gpt, plain = (json.loads(a) for a in sys.argv[1:4])
assert 0.0 <= bert["masked_accuracy"] <= 1.0 and bert["masked_tokens"] > 100 and bert["loss"] > 0, bert
assert 0.0 <= gpt["masked_accuracy"] <= 1.0 and gpt["masked_loss"] > 0 and gpt["loss"] == plain["loss"], gpt
assert abs(gpt["masked_tokens"] - bert["masked_tokens"]) < 10, (gpt, bert)  # the same positions up to the last window
assert "masked_accuracy" not in plain, plain
PY

# report: the maps are full matrices (bidirectional), section 4 the [MASK]'s candidates, not a next token.
checks=$((checks + 1))
if "$GPT" report bert --prompt "a [MASK]e" > report.out 2> report.err &&
    "$PYTHON" - bert/report.html <<'PY'; then pass "report: full attention maps, the [MASK]'s candidates"; else fail "report: $(cat report.err)"; fi
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
maps = re.findall(r'<svg id="attn-L\d+-H\d+".*?</svg>', html, re.S)
assert len(maps) == 2, len(maps)  # 1 layer, 2 heads
for m in maps:
    rows, cols = map(int, re.search(r'data-rows="(\d+)" data-cols="(\d+)"', m).groups())
    assert rows == cols == 6, (rows, cols)  # [CLS] a ␣ [MASK] e [SEP]
    assert m.count('class="cell"') == rows * cols, m.count('class="cell"')
assert 'id="fill-chart"' in html and 'id="next-token-t1"' not in html
PY
expect_error "report --prompt longer than block_size" 1 "more than the model's block_size 12" -- \
    "$GPT" report bert --prompt "the [MASK] and the other one"

expect_error "fill without [MASK]" 1 "--text has no [MASK]" -- "$GPT" fill --checkpoint bert --text "no mask here"
expect_error "fill on a gpt checkpoint" 1 "gpt fill needs a bert checkpoint" -- "$GPT" fill --checkpoint gpt --text "a [MASK]"
expect_error "fill text longer than block_size" 1 "more than the model's block_size 12" -- "$GPT" fill --checkpoint bert --text "the [MASK] and the other one"
expect_error "fill --top 0" 1 "--top must be >= 1" -- "$GPT" fill --checkpoint bert --text "a [MASK]" --top 0
expect_error "fill, a character the tokenizer lacks" 1 "cannot be encoded" -- "$GPT" fill --checkpoint bert --text "€ [MASK]"
expect_error "sample on a bert checkpoint" 1 "with gpt fill" -- "$GPT" sample --checkpoint bert --max_new_tokens 5
expect_error "model neither gpt nor bert" 1 "model must be \"gpt\", \"bert\" or \"transformer\", got \"xlnet\"" -- "$GPT" train "${TINY[@]}" --model xlnet --max_iters 1 --data tiny.txt --out_dir x1
expect_error "bert block_size 2" 1 "needs block_size >= 3" -- "$GPT" train "${SMALL[@]}" --model bert --block_size 2 --max_iters 1 --data tiny.txt --out_dir x2
expect_error "resume as another model" 1 "model" -- "$GPT" train --resume bert --model gpt --max_iters 30
finish
