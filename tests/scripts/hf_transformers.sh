#!/usr/bin/env bash
# Round trip with Hugging Face's own code, where `transformers` is installed (not on Debian: the
# 16-core machine of DEVELOPERS.md has it): GPT2LMHeadModel(GPT2Config(...)).save_pretrained ->
# gpt import -> same logits (through tools/load_checkpoint.py, which tests/interop checks against the
# C++ logits); gpt export --format hf -> GPT2LMHeadModel.from_pretrained -> same logits.
# Reported to ctest as skipped (exit 77, SKIP_RETURN_CODE in CMakeLists.txt), never as passed, when the
# Python has no transformers (also under GPT_REQUIRE_TORCH: transformers is not part of the Debian set-up).
set -euo pipefail
build=$1
python=${2:-/usr/bin/python3}
for candidate in "$python" python3; do
    if "$candidate" -c 'import transformers, safetensors, torch, h5py' 2>/dev/null; then python=$candidate; found=1; break; fi
done
if [ -z "${found:-}" ]; then
    echo "skipped: no Python here has transformers + safetensors + torch + h5py"
    exit 77
fi
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/tok"
# A GPT-2-format tokenizer of 257 tokens (bytes + <|endoftext|>) written by the interop test helper.
echo "1 2 3" > "$dir/ids.txt"
"$python" "$source_dir/tests/interop/hf_gpt2.py" "$dir/tok" "$dir/ids.txt" >/dev/null
"$python" - "$dir" "$source_dir" "$build/gpt" <<'PY'
import subprocess, sys, shutil, torch
sys.path.insert(0, sys.argv[2] + "/tools")
import load_checkpoint as lc
from transformers import GPT2Config, GPT2LMHeadModel
d, gpt = sys.argv[1], sys.argv[3]
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(vocab_size=257, n_positions=32, n_embd=48, n_layer=2, n_head=4)).eval()
with torch.no_grad():  # non-trivial biases and LayerNorms
    for name, p in model.named_parameters():
        if "ln_" in name or name.endswith(".bias"): p.add_(0.1 * torch.randn_like(p))
model.save_pretrained(d + "/hf", safe_serialization=True)
for f in ("vocab.json", "merges.txt"): shutil.copy(d + "/tok/" + f, d + "/hf/" + f)
ids = torch.randint(0, 257, (1, 32))
with torch.no_grad(): ref = model(ids).logits[0]
def rel(a, b): return float((a - b).abs().max() / b.abs().max())
subprocess.run([gpt, "import", d + "/hf", d + "/m.h5"], check=True)
mine, _ = lc.load(d + "/m.h5")
with torch.no_grad(): e1 = rel(mine(ids)[0], ref)
subprocess.run([gpt, "export", d + "/m.h5", "--format", "hf", d + "/out"], check=True)
back = GPT2LMHeadModel.from_pretrained(d + "/out").eval()
with torch.no_grad(): e2 = rel(back(ids).logits[0], ref)
print(f"save_pretrained -> gpt import: logits max rel error {e1:.3g}; gpt export hf -> from_pretrained: {e2:.3g}")
sys.exit(0 if e1 <= 1e-4 and e2 <= 1e-4 else 1)
PY
