#!/usr/bin/env bash
# tools/load_checkpoint.py as a user runs it: --text with the checkpoint's own tokenizer (character-level
# and BPE; the BPE encoding must equal the C++ tokenizer's, i.e. the run's train.bin + val.bin ids), ids
# outside the vocabulary and text outside a character vocabulary refused with one line, and an
# interpreter without h5py/torch named with the Python to use. Skipped (77) without torch and h5py.
source "$(dirname "$0")/failure_lib.bash" "$@"
TOOL=$(cd "$(dirname "$0")/../.." && pwd)/tools/load_checkpoint.py
"$PYTHON" -c "import torch, h5py" 2> /dev/null || { echo "skip: $PYTHON has no torch/h5py"; exit 77; }
cd "$WORK"
make_corpus tiny.txt
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir char --max_iters 2 > /dev/null 2>&1 || fail "char run"
"$GPT" train "${TINY[@]}" --data tiny.txt --out_dir bpe --max_iters 2 --tokenizer bpe --vocab_size 300 \
    > /dev/null 2>&1 || fail "bpe run"

checks=$((checks + 1))
if "$PYTHON" "$TOOL" char/ckpt.h5 --text "The " --greedy 5 > out 2> err && [ "$(wc -l < out)" -ge 2 ]; then
    pass "--text on a char checkpoint"
else fail "--text on a char checkpoint: $(tail -n 2 err)"; fi

checks=$((checks + 1))
"$PYTHON" "$TOOL" char/ckpt.h5 --ids 464,3290 --greedy 5 > out 2> err
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "^error: token id 464 is outside this checkpoint's vocabulary" err; then
    pass "GPT-2 ids on a char checkpoint: one error line"
else fail "ids outside the vocabulary: rc $rc, $(cat err)"; fi

checks=$((checks + 1))
"$PYTHON" "$TOOL" char/ckpt.h5 --text "€" > out 2> err
rc=$?
if [ "$rc" -eq 2 ] && grep -q "^error: character '€' (U+20AC) at offset 0 is not in the checkpoint's vocabulary" err; then
    pass "a character outside the vocabulary: one error line"
else fail "a character outside the vocabulary: rc $rc, $(cat err)"; fi

checks=$((checks + 1))
if "$PYTHON" - "$TOOL" > out 2>&1 <<'PY'
import sys, struct
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
import load_checkpoint
_, tok = load_checkpoint.load("bpe/ckpt.h5")
ids = []
for name in ("bpe/train.bin", "bpe/val.bin"):
    data = open(name, "rb").read()
    width = struct.unpack_from("<I", data, 12)[0]
    ids += list(struct.unpack_from("<%d%s" % ((len(data) - 32) // width, "H" if width == 2 else "I"), data, 32))
mine = tok.encode(open("tiny.txt", encoding="utf-8").read())
print(len(mine), len(ids))
sys.exit(0 if mine == ids else 1)
PY
then pass "BPE --text encoding equals the C++ tokenizer's ($(cat out) tokens)"
else fail "BPE encoding differs from the C++ tokenizer's: $(tail -n 3 out)"; fi

# model = bert: bidirectional attention, [CLS] text [SEP] with the [MASK] token: the tool's candidates for
# a mask are gpt fill's (its five most probable ordinary tokens and their percentages).
"$GPT" train "${TINY[@]}" --model bert --data tiny.txt --out_dir bert --max_iters 20 > /dev/null 2>&1 ||
    fail "bert run"
checks=$((checks + 1))
"$PYTHON" "$TOOL" bert/ckpt.h5 --text "a [MASK] b" > out 2> err
tool_top=$("$PYTHON" -c 'import ast, re, sys
m = re.match(r"\[MASK\] at \d+: (.*?) ([0-9.]+) %(,|$)", open(sys.argv[1]).read().splitlines()[-1])
print(ast.literal_eval(m.group(1)), m.group(2))' out 2>&1)
fill_top=$("$GPT" fill --checkpoint bert --text "a [MASK] b" --top 1 2> /dev/null | grep -E '^ +1\. ' |
    sed -E "s/^ +1\. '(.*)' +([0-9.]+) %$/\1 \2/")
if [ -n "$tool_top" ] && [ "$tool_top" = "$fill_top" ]; then pass "bert: the tool's [MASK] candidate is gpt fill's ($tool_top)"
else fail "bert: tool '$tool_top' vs gpt fill '$fill_top' ($(tail -n 1 err))"; fi
checks=$((checks + 1))
"$PYTHON" "$TOOL" bert/ckpt.h5 --text "the" --greedy 2 > out 2> err
if [ $? -eq 2 ] && grep -q "^error: a bert checkpoint does not generate" err; then pass "bert --greedy: one error line"
else fail "bert --greedy: $(cat err)"; fi

# model = transformer: PyTorch's own nn.Transformer with the weights decodes every source as gpt translate.
"$PYTHON" "$(dirname "$TOOL")/../scripts/toy_tasks.py" --out toy --tasks reverse --train 300 --valid 10 --test 10 > /dev/null
"$GPT" train --model transformer --n_encoder_layer 1 --n_decoder_layer 1 --n_head 2 --n_embd 16 --block_size 16 \
    --batch_size 8 --max_iters 150 --lr 0.01 --warmup_iters 10 --threads 1 --data toy/reverse/train.tsv --out_dir ed \
    > /dev/null 2>&1 || fail "transformer run"
checks=$((checks + 1))
same=0
for source in abc hello transformer world qwerty; do
    mine=$("$PYTHON" "$TOOL" ed/ckpt.h5 --source "$source" 2> err | tail -n 1)
    theirs=$("$GPT" translate --checkpoint ed --text "$source" 2> /dev/null)
    [ -n "$theirs" ] && [ "$mine" = "$theirs" ] && same=$((same + 1))
done
if [ "$same" -eq 5 ]; then pass "transformer: nn.Transformer's greedy output = gpt translate's on 5 sources"
else fail "transformer: $same of 5 sources agree ($(tail -n 1 err))"; fi
checks=$((checks + 1))
"$PYTHON" "$TOOL" ed/ckpt.h5 --text abc > out 2> err
if [ $? -eq 2 ] && grep -q "^error: a model = transformer checkpoint takes --source" err; then
    pass "transformer with --text: one error line"
else fail "transformer with --text: $(cat err)"; fi

# An interpreter without h5py: a venv without system packages stands for pyenv's or conda's python3.
checks=$((checks + 1))
if "$PYTHON" -m venv --without-pip bare > /dev/null 2>&1; then
    bare/bin/python3 "$TOOL" char/ckpt.h5 > out 2> err
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "^error: load_checkpoint.py needs h5py and torch.*/usr/bin/python3" err; then
        pass "a Python without h5py: one line naming /usr/bin/python3"
    else fail "a Python without h5py: rc $rc, $(cat err)"; fi
else pass "a Python without h5py: no venv module here, not checked"; fi

finish
