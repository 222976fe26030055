"""The checks of serve_api.sh: python3 serve_api_check.py URL WORK_DIR GPT TOOLS_DIR.

WORK_DIR/runs holds the served runs a (20 steps), b (5 steps), m (mla), bert (model = bert), t (model =
transformer, on WORK_DIR/toy's reversal task), and escape, a symlink to a run outside the folder. The independent reference is PyTorch on the checkpoint's weights
(tools/load_checkpoint.py), and `gpt sample --show_probs` for the sampling probabilities."""
import concurrent.futures
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

import torch

URL, WORK, GPT, TOOLS = sys.argv[1:5]
sys.path.insert(0, TOOLS)
import load_checkpoint  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_seq2seq_reference  # noqa: E402

HOST, PORT = urllib.parse.urlparse(URL).hostname, urllib.parse.urlparse(URL).port
failures = []


def check(condition, what):
    print(("ok: " if condition else "FAIL: ") + what)
    if not condition:
        failures.append(what)


def request(method, path, body=None, raw=None, headers=None):
    """(status, parsed JSON or text) of one request; path is sent as is (no normalisation)."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    connection.request(method, path, body=data, headers=headers or ({"Content-Type": "application/json"} if data else {}))
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def get(path):
    return request("GET", path)


def post(path, body):
    return request("POST", path, body)


def close(a, b, tol=1e-4):
    return abs(a - b) <= tol * max(1.0, abs(b))


PROMPT = "the quick brown fox"

# ---- pages and runs ----
status, page = get("/")
check(status == 200 and "<script src=\"/app.js\">" in page and "http" not in page, "GET / serves the page, which names nothing on the network")
scripts = re.findall(r'<script src="(/[a-z]+\.js)">', page)
sources = [get(path) for path in scripts]
text = "".join(body for _, body in sources)
check(len(scripts) >= 2 and all(status == 200 for status, _ in sources) and "function drawForward" in text
      and "http" not in re.sub(r"createElementNS\('http://www.w3.org/2000/svg'", "", text),
      f"the page's scripts {scripts} are served and load nothing from the network")
status, runs = get("/api/runs")
names = [r["name"] for r in runs["runs"]] if status == 200 else []
check(status == 200 and names == ["a", "b", "bert", "m", "t"], f"/api/runs lists a, b, bert, m and t only, not the symlink out: {names}")

# ---- training view ----
status, m = get("/api/metrics?run=a")
check(status == 200 and m["records"] >= 4 and len(m["step"]) == len(m["train_loss"]) == len(m["lr"]) == len(m["grad_norm"]),
      f"/api/metrics columns of equal length ({m.get('records') if status == 200 else status} records)")
if status == 200:
    check(any(v is not None for v in m["val_loss"]) and any(v is None for v in m["val_loss"]), "val_loss: values on evaluated steps, null elsewhere")
    g = m["grad_norms"]
    check(len(g["names"]) > 0 and len(g["values"]) == len(g["steps"]) and all(len(r) == len(g["names"]) for r in g["values"]),
          f"gradient-flow heatmap [{len(g['steps'])} steps x {len(g['names'])} tensors]")
    check("h.0.attn.c_attn.weight" in m["update_ratios"]["names"], "update-ratio heatmap names the parameters")
    evaluated = [s_ for s_, v in zip(m["step"], m["val_loss"]) if v is not None]
    check([x["step"] for x in m["samples"]] == evaluated and all(len(x["text"]) > 0 for x in m["samples"]),
          f"a sample at each evaluation (steps {evaluated})")

status, tail = get("/api/metrics?run=a&since=2")
check(status == 200 and tail["from"] == 2 and len(tail["step"]) == m["records"] - 2 and tail["step"] == m["step"][2:],
      "since=2: only the records a poll has not seen")
status, again = get("/api/metrics?run=a&since=1000")
check(status == 200 and again["from"] == 0 and again["step"] == m["step"], "since past the end (a rewritten file): everything again")
expect_status = get("/api/metrics?run=a&since=-1")
check(expect_status[0] == 400 and "since" in expect_status[1]["error"], "since=-1 -> 400")

# ---- model view ----
status, model = get("/api/model?run=a")
check(status == 200 and model["config"]["n_layer"] == 2 and model["config"]["n_head"] == 2 and model["loads"] == 1,
      "/api/model: the checkpoint's config, loaded once")
L, H = 2, 2

# ---- forward view ----
options = {"temperature": 0.7, "top_k": 5, "top_p": 0.9, "repetition_penalty": 1.3}
status, f = post("/api/forward", {"run": "a", "prompt": PROMPT, **options})
check(status == 200, f"/api/forward answers 200 ({status})")
T = f["T"]
check(T == len(PROMPT) == len(f["tokens"]) and "".join(t["text"] for t in f["tokens"]) == PROMPT, f"tokens: {T}, with their text")
att = f["attention"]
check(len(att) == L and all(len(layer) == H for layer in att) and all(len(m_) == T and all(len(r) == T for r in m_) for layer in att for m_ in layer),
      f"attention [{L}][{H}][{T}][{T}]")
# Matrices are sent with 4 significant digits (issue 28): a row of T rounded values sums to 1 within ~T·5e-5.
rows_ok = all(abs(sum(r) - 1) < 2e-3 for layer in att for m_ in layer for r in m_)
causal_ok = all(m_[i][j] == 0 for layer in att for m_ in layer for i in range(T) for j in range(i + 1, T))
check(rows_ok and causal_ok, "every attention row sums to 1, nothing above the diagonal")
C = 16
check(all(len(f["embeddings"][k]) == T and len(f["embeddings"][k][0]) == C for k in ("token", "position", "sum")), "embeddings [T][C] x 3")
check(all(close(f["embeddings"]["token"][i][c] + f["embeddings"]["position"][i][c], f["embeddings"]["sum"][i][c], 2e-3)
          for i in range(T) for c in range(C)), "token + position = the forward's embedding")
check(len(f["gelu"]) == L and len(f["gelu"][0]) == T and len(f["gelu"][0][0]) == 4 * C, "GELU activations [L][T][4C]")
rn = f["residual_norms"]
check(len(rn["embedding"]) == T and len(rn["mid"]) == L and len(rn["out"][1]) == T, "residual norms per layer and position")
s = f["sampling"]
check(abs(sum(p["p"] for p in s["probs"]) - 1) < 1e-4 and len(s["probs"]) == s["kept"] <= 5, f"final probabilities sum to 1 over the {s['kept']} kept tokens (top_k 5)")
check(len(s["candidates"]) == 20 and abs(sum(c["p_temperature"] for c in s["candidates"])) <= 1 + 1e-5, "20 candidates after temperature")

# The same prompt and options through `gpt sample --show_probs`: its first [probs] line is the
# distribution of the first generated token, printed to 4 decimals.
run = subprocess.run([GPT, "sample", "--checkpoint", WORK + "/runs/a", "--prompt", PROMPT, "--max_new_tokens", "1",
                      "--temperature", "0.7", "--top_k", "5", "--top_p", "0.9", "--repetition_penalty", "1.3",
                      "--show_probs", "true", "--threads", "1"], capture_output=True, text=True)
line = next((l for l in run.stderr.splitlines() if l.startswith("[probs]")), "")
printed = [float(x) for x in re.findall(r" (\d\.\d{4})(?=  )", line + "  ")]
served = [round(p["p"], 4) for p in s["probs"][:5]]
check(run.returncode == 0 and printed and printed == served[:len(printed)], f"probabilities equal gpt sample --show_probs: {served} vs {printed}")

# Probabilities at temperature 1 equal PyTorch's softmax of the reference model's logits.
ref, _ = load_checkpoint.load(WORK + "/runs/a/ckpt.h5")
ids = [t["id"] for t in f["tokens"]]
status, f1 = post("/api/forward", {"run": "a", "prompt": PROMPT, "temperature": 1.0})
with torch.no_grad():
    p_ref = torch.softmax(ref(torch.tensor([ids]))[0, -1].double(), -1)
check(all(close(c["p_temperature"], p_ref[c["id"]].item(), 1e-4) for c in f1["sampling"]["candidates"]),
      "next-token probabilities equal PyTorch's on the same weights")

# The stage views for one token (serve/token_stages.h) against PyTorch on the same weights: token #6,
# layer 1, head 1: its q, k, v, the scores q·kⱼ/√d, the softmax row, the weighted sum of the values.
i, layer, head = 6, 1, 1
status, st = post("/api/forward", {"run": "a", "prompt": PROMPT, "position": i, "stage_layer": layer, "stage_head": head})
hd = C // H
with torch.no_grad():
    x = (ref.p("wte.weight")[torch.tensor(ids)] + ref.p("wpe.weight")[:T])[None]
    pre = "h.0."
    x = x + ref.linear(ref.mha(ref.layer_norm(x, pre + "ln_1"), pre), pre + "attn.c_proj")
    x = x + ref.linear(ref.mlp_act(ref.linear(ref.layer_norm(x, pre + "ln_2"), pre + "mlp.c_fc")), pre + "mlp.c_proj")
    q, k, v = ref.linear(ref.layer_norm(x, "h.1.ln_1"), "h.1.attn.c_attn")[0].split([H * hd] * 3, dim=-1)
    part = slice(head * hd, (head + 1) * hd)
    scores = k[:i + 1, part] @ q[i, part] / math.sqrt(hd)
    weights_row = torch.softmax(scores, -1)
    output = weights_row @ v[:i + 1, part]
shown = st["stages"]["layer"]["heads"][head] if status == 200 else {}
same = lambda a, b: len(a) == len(b) and all(close(x_, y_.item(), 1e-3) for x_, y_ in zip(a, b))  # 4 digits sent
check(status == 200 and st["position"] == i and same(shown["q"], q[i, part]) and same(shown["k"], k[i, part]) and same(shown["v"], v[i, part]),
      "stage view: token #6's q, k, v of layer 1 head 1 equal PyTorch's")
check(status == 200 and same(shown["scores"], scores) and same(shown["probs"], weights_row) and same(shown["output"], output),
      "stage view: its scores q·kⱼ/√d, softmax row and weighted sum of the values equal PyTorch's")

# Chromium's request headers (every browser accepts br and gzip): the answer is not compressed. Debian's
# cpp-httplib Brotli-compresses otherwise, 12-19 s for a forward view (issue 28); no time bound is asserted
# here beyond the request's own 60 s timeout (serve_limits.sh checks a generous 10 s bound).
connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
connection.request("POST", "/api/forward", body=json.dumps({"run": "a", "prompt": PROMPT}).encode(),
                   headers={"Content-Type": "application/json", "Accept-Encoding": "gzip, deflate, br, zstd",
                            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"})
response = connection.getresponse()
raw_body = response.read()
connection.close()
check(response.status == 200 and response.getheader("Content-Encoding") is None and json.loads(raw_body)["T"] == T,
      f"browser Accept-Encoding: an uncompressed answer of {len(raw_body)} bytes")

# ---- generate ----
status, g = post("/api/generate", {"run": "a", "prompt": PROMPT, "n": 3, "seed": 7, "temperature": 0})
check(status == 200 and len(g["tokens"]) == 3 and g["text"] == "".join(t["text"] for t in g["tokens"]), f"/api/generate appends 3 tokens: {g.get('text')!r}")
check(status == 200 and g["length"] == T + 3, f"/api/generate's length counts the prompt's tokens and the new ones ({g.get('length')} = {T} + 3)")

# ---- backpropagation view, against PyTorch ----
position = 10
status, b = post("/api/backprop", {"run": "a", "prompt": PROMPT, "position": position, "step": True, "optimizer": "sgd", "lr": 0.1})
check(status == 200 and b["position"] == position and b["target"]["id"] == ids[position + 1], "/api/backprop: default target = the next prompt token")
weights = {e["name"].replace(".", "__"): ref.p(e["name"]) for e in b["parameters"]}
for p in weights.values():
    p.requires_grad_(True)
logits = ref(torch.tensor([ids[:position + 1]]))
loss = torch.nn.functional.cross_entropy(logits[0, -1:], torch.tensor([ids[position + 1]]))
loss.backward()
check(close(b["loss"], loss.item(), 1e-4), f"loss {b['loss']:.6f} = PyTorch {loss.item():.6f}")
worst = max(abs(e["grad_norm"] - weights[e["name"].replace(".", "__")].grad.norm().item()) / max(1e-6, weights[e["name"].replace(".", "__")].grad.norm().item())
            for e in b["parameters"])
check(len(b["parameters"]) == len(weights) and worst < 1e-3, f"gradient norm of every parameter tensor equals PyTorch's (worst relative error {worst:.1e})")
heads = next(e["heads"] for e in b["parameters"] if e["name"] == "h.0.attn.c_attn.weight")
hd = C // H
gq = weights["h__0__attn__c_attn__weight"].grad
check(all(close(heads["q"][h], gq[h * hd:(h + 1) * hd].norm().item(), 1e-3) for h in range(H)), "per-head gradient norms (q) equal PyTorch's")
# dL/d(embedding) for learned positions is dL/d(wpe row t): position t is used once.
wpe_grad = weights["wpe__weight"].grad
check(len(b["input_grad_norms"]) == position + 1 and all(close(v, wpe_grad[t].norm().item(), 1e-3) for t, v in enumerate(b["input_grad_norms"])),
      "gradient w.r.t. each input position's embedding equals PyTorch's")
tape = b["tape"]
check(len(tape["ops"]) > 10 and tape["tensors"][0]["name"] == "loss" and any(t["parameter"] and t["grad_norm"] for t in tape["tensors"]),
      f"tape: {len(tape['ops'])} ops, {len(tape['tensors'])} tensors with gradient norms")
check(all(t["grad_norm"] is None or t["grad_norm"] >= 0 for t in tape["tensors"]) and
      sum(t["grad_norm"] is not None for t in tape["tensors"]) > len(tape["tensors"]) // 2, "intermediate tensors keep their gradient norms")
# One SGD step with lr 0.1 on PyTorch's copy: the loss after equals the server's scratch copy.
with torch.no_grad():
    for p in weights.values():
        p -= 0.1 * p.grad
    after = torch.nn.functional.cross_entropy(ref(torch.tensor([ids[:position + 1]]))[0, -1:], torch.tensor([ids[position + 1]])).item()
check(close(b["step"]["after"]["loss"], after, 1e-3) and after < loss.item(), f"one SGD step: loss {loss.item():.4f} -> {after:.4f} (server {b['step']['after']['loss']:.4f})")
status, again = post("/api/backprop", {"run": "a", "prompt": PROMPT, "position": position})
check(status == 200 and close(again["loss"], b["loss"], 1e-6), "the served model is unchanged by the step (same loss again)")

# ---- multi-head latent attention + rope (run m): the latent c_KV per layer, no wpe, PyTorch's loss ----
status, fm = post("/api/forward", {"run": "m", "prompt": PROMPT})
check(status == 200 and fm["embeddings"]["position"] is None and len(fm["latent"]) == L and
      all(len(m_) == T and len(m_[0]) == 8 for m_ in fm["latent"]), "mla + rope: latent c_KV [L][T][8], no position embedding")
check(all(abs(sum(r) - 1) < 2e-3 for layer in fm["attention"] for m_ in layer for r in m_), "mla: every attention row sums to 1")
check(f["latent"] == [], "mha: no latent")
status, bm = post("/api/backprop", {"run": "m", "prompt": PROMPT, "position": position})
ref_m, _ = load_checkpoint.load(WORK + "/runs/m/ckpt.h5")
weights_m = {e["name"]: ref_m.p(e["name"]) for e in bm["parameters"]} if status == 200 else {}
for p in weights_m.values():
    p.requires_grad_(True)
loss_m = torch.nn.functional.cross_entropy(ref_m(torch.tensor([ids[:position + 1]]))[0, -1:], torch.tensor([ids[position + 1]]))
loss_m.backward()
worst_m = max(abs(e["grad_norm"] - weights_m[e["name"]].grad.norm().item()) / max(1e-6, weights_m[e["name"]].grad.norm().item())
              for e in bm["parameters"]) if weights_m else 1
check(status == 200 and close(bm["loss"], loss_m.item(), 1e-4) and worst_m < 1e-3,
      f"mla backprop: loss and every gradient norm equal PyTorch's (worst relative error {worst_m:.1e})")

# ---- bad requests ----
def expect(status_body, code, pattern, what):
    status, body = status_body
    message = body.get("error", "") if isinstance(body, dict) else str(body)
    check(status == code and re.search(pattern, message) is not None, f"{what} -> {status} {message!r}")


def rows_sum_to_one(maps):
    """Every row of every map [L][H][rows][cols] sent (null: not asked for) sums to 1 (4 digits sent)."""
    return all(abs(sum(r) - 1) < 2e-3 for layer in maps if layer for m_ in layer if m_ for r in m_)


def worst_difference(maps, reference):
    """Largest |served − reference| over the maps sent; reference: [L] tensors [H, rows, cols]."""
    return max(abs(x - y) for layer, ref_layer in zip(maps, reference) if layer for h, m_ in enumerate(layer) if m_
               for row, ref_row in zip(m_, ref_layer[h].tolist()) for x, y in zip(row, ref_row))


# ---- model = bert (run bert): full attention maps; the bars are the prediction at the position ----
status, model_b = get("/api/model?run=bert")
check(status == 200 and model_b["model"] == "bert" and model["model"] == "gpt", "/api/model says the kind: bert, gpt")
BERT_PROMPT = "the quick"
status, fb = post("/api/forward", {"run": "bert", "prompt": BERT_PROMPT, "temperature": 1.0, "position": 3})
Tb = len(BERT_PROMPT)
check(status == 200 and fb["predicts"] == "token" and f["predicts"] == "next", "predicts: token (bert), next (gpt)")
check(status == 200 and rows_sum_to_one(fb["attention"]) and all(len(r) == Tb for layer in fb["attention"] for m_ in layer for r in m_) and
      all(any(m_[i][j] > 0 for i in range(Tb) for j in range(i + 1, Tb)) for layer in fb["attention"] for m_ in layer),
      "bert: every map is the whole [T][T] matrix (weights above the diagonal), rows summing to 1")
head0 = fb["stages"]["layer"]["heads"][0] if status == 200 else {"probs": []}
check(len(head0["probs"]) == Tb and abs(sum(head0["probs"]) - 1) < 2e-3, "bert: the stage view's softmax row reads every key")
ref_b, _ = load_checkpoint.load(WORK + "/runs/bert/ckpt.h5")


def bidirectional(q, k, v, scale):  # load_checkpoint's attend without a causal mask, whatever it does with the kind
    B, T_, H_, dv = v.shape
    att = ((q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2)) * scale).softmax(dim=-1)
    return (att @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T_, H_ * dv)


ref_b.attend = bidirectional
ids_b = [t_["id"] for t_ in fb["tokens"]]
with torch.no_grad():
    p_b = torch.softmax(ref_b(torch.tensor([ids_b]))[0, 3].double(), -1)
check(all(close(c["p_temperature"], p_b[c["id"]].item(), 1e-4) for c in fb["sampling"]["candidates"]),
      "bert: the prediction at position 3 equals PyTorch's bidirectional forward on the same weights")
status, fm_b = post("/api/forward", {"run": "bert", "prompt": BERT_PROMPT, "temperature": 1.0, "position": 4, "mask": True})
masked_ids = ids_b[:4] + [fm_b["tokens"][4]["id"]] + ids_b[5:] if status == 200 else ids_b
with torch.no_grad():
    p_m = torch.softmax(ref_b(torch.tensor([masked_ids]))[0, 4].double(), -1)
check(status == 200 and fm_b["tokens"][4]["text"] == "[MASK]" and fm_b["predicts"] == "masked" and
      all(close(c["p_temperature"], p_m[c["id"]].item(), 1e-4) for c in fm_b["sampling"]["candidates"]),
      "bert, mask: a [MASK] at position 4, its predictions equal PyTorch's")
expect(post("/api/generate", {"run": "bert", "prompt": "the", "n": 1}), 400, "a bert model does not generate text", "generate on bert")
expect(post("/api/backprop", {"run": "bert", "prompt": "the quick"}), 400,
       "the backprop view is for model = gpt; this run is model = bert", "backprop on bert")
expect(post("/api/forward", {"run": "a", "prompt": "the", "mask": True}), 400, "mask is for model = bert", "mask on a gpt")

# ---- model = transformer (run t): encoder, decoder and cross attention; translations ----
SOURCE = "abcdef"
status, model_t = get("/api/model?run=t")
ct = model_t["config"] if status == 200 else {}
check(status == 200 and model_t["model"] == "transformer" and ct["n_encoder_layer"] == 2 and ct["n_decoder_layer"] == 1 and
      ct["n_head"] == 2 and any(p_["name"] == "decoder.h.0.cross_attn.c_q.weight" for p_ in model_t["parameters"]),
      "/api/model: the transformer's config and parameter shapes")
status, mt = get("/api/metrics?run=t")
check(status == 200 and mt["records"] >= 2 and len(mt["step"]) == len(mt["train_loss"]) and any(v is not None for v in mt["val_loss"]),
      f"/api/metrics of the transformer run ({mt.get('records') if status == 200 else status} records)")
translated = subprocess.run([GPT, "translate", "--checkpoint", WORK + "/runs/t", "--text", SOURCE, "--threads", "1"],
                            capture_output=True, text=True)
status, ft = post("/api/forward", {"run": "t", "source": SOURCE})
check(status == 200 and translated.returncode == 0 and ft["translated"] and ft["translation"]["text"] == translated.stdout.rstrip("\n") and
      ft["target"] == ft["translation"]["text"], f"no target: the greedy translation, as gpt translate's: {ft.get('target')!r} vs {translated.stdout.rstrip()!r}")
S, Tt, Ht = len(SOURCE), len(ft["translation"]["tokens"]) + 1, 2
check(ft["S"] == S and ft["T"] == Tt and [t_["text"] for t_ in ft["source_tokens"]] == list(SOURCE) and
      ft["decoder_tokens"][0]["text"] == "<bos>" and ft["position"] == Tt - 1, f"source {S} tokens, decoder bos + {Tt - 1}, position the last")
shape = lambda maps: [len(maps), len(maps[0]), len(maps[0][0]), len(maps[0][0][0])] if maps and maps[0] and maps[0][0] else []
check(shape(ft["encoder_attention"]) == [2, Ht, S, S] and shape(ft["decoder_attention"]) == [1, Ht, Tt, Tt] and
      shape(ft["cross_attention"]) == [1, Ht, Tt, S], f"maps: encoder {shape(ft['encoder_attention'])}, decoder "
      f"{shape(ft['decoder_attention'])}, cross {shape(ft['cross_attention'])}")
check(all(rows_sum_to_one(ft[g]) for g in ("encoder_attention", "decoder_attention", "cross_attention")), "every row of every map sums to 1")
check(all(m_[i][j] == 0 for layer in ft["decoder_attention"] for m_ in layer for i in range(Tt) for j in range(i + 1, Tt)) and
      all(any(m_[i][j] > 0 for i in range(S) for j in range(i + 1, S)) for layer in ft["encoder_attention"] for m_ in layer),
      "decoder self-attention is causal (0 above the diagonal); the encoder's is not")
ref_t = serve_seq2seq_reference.load(WORK + "/runs/t/ckpt.h5")
r_t = ref_t.pair([t_["id"] for t_ in ft["source_tokens"]], [t_["id"] for t_ in ft["decoder_tokens"]])
worst = max(worst_difference(ft["encoder_attention"], r_t["encoder"]), worst_difference(ft["decoder_attention"], r_t["decoder"]),
            worst_difference(ft["cross_attention"], r_t["cross"]))
check(worst < 2e-4, f"the three groups of maps equal PyTorch's MultiheadAttention weights on the same checkpoint (worst {worst:.1e})")
p_t = torch.softmax(r_t["logits"][Tt - 1], -1)
cand = ft["candidates"]
check(len(cand) == 20 and all(a_["p"] >= b_["p"] for a_, b_ in zip(cand, cand[1:])) and all(close(c["p"], p_t[c["id"]].item(), 1e-4) for c in cand),
      "the decoder's 20 candidates at the last position, most probable first, equal PyTorch's softmax")
check(ft["expected"]["text"] == "<eos>" and close(ft["expected"]["p"], p_t[ft["expected"]["id"]].item(), 1e-4),
      "after the whole target the expected token is eos, with its probability")
# A given target, one position, one layer (1: the encoder's second; the decoder has none), one head.
status, fg = post("/api/forward", {"run": "t", "source": SOURCE, "target": "fed", "position": 1, "layers": [1], "heads": [0]})
check(status == 200 and not fg["translated"] and fg["translation"] is None and fg["T"] == 4 and fg["position"] == 1 and
      fg["expected"]["text"] == "e", "a given target: teacher forcing, the candidates at position 1 predict its second token")
check(status == 200 and fg["encoder_attention"][0] == [None, None] and fg["encoder_attention"][1][1] is None and
      len(fg["encoder_attention"][1][0]) == S and fg["decoder_attention"] == [[None, None]] and fg["cross_attention"] == [[None, None]],
      "layers [1], heads [0]: only encoder layer 1's head 0 (the decoder has one layer)")
r_g = ref_t.pair([t_["id"] for t_ in fg["source_tokens"]], [t_["id"] for t_ in fg["decoder_tokens"]])
p_g = torch.softmax(r_g["logits"][1], -1)
check(all(close(c["p"], p_g[c["id"]].item(), 1e-4) for c in fg["candidates"]), "the candidates at position 1 equal PyTorch's")
status, tr = post("/api/translate", {"run": "t", "source": SOURCE})
check(status == 200 and tr["text"] == ft["target"] and tr["beam"] == 1, f"/api/translate greedy: {tr.get('text')!r}")
beam = subprocess.run([GPT, "translate", "--checkpoint", WORK + "/runs/t", "--text", SOURCE, "--beam", "3", "--length_penalty", "0.6",
                       "--threads", "1"], capture_output=True, text=True)
status, tb = post("/api/translate", {"run": "t", "source": SOURCE, "beam": 3, "length_penalty": 0.6})
check(status == 200 and beam.returncode == 0 and tb["text"] == beam.stdout.rstrip("\n"),
      f"/api/translate beam 3, length penalty 0.6 equals gpt translate's: {tb.get('text')!r} vs {beam.stdout.rstrip()!r}")
long_text = "abcdefghijklmnopq"  # 17 characters: over source_block_size and target_block_size − 1
expect(post("/api/forward", {"run": "t", "source": long_text}), 400, "source is 17 tokens.*source_block_size", "a source over source_block_size")
expect(post("/api/forward", {"run": "t", "source": "abc", "target": long_text}), 400, "target is 17 tokens.*target_block_size",
       "a target over target_block_size - 1")
expect(post("/api/forward", {"run": "t", "source": "abΩ"}), 400, "^source cannot be encoded", "a source character outside the vocabulary")
expect(post("/api/forward", {"run": "t", "source": "abc", "target": "AB"}), 400, "^target cannot be encoded", "a target character outside the vocabulary")
expect(post("/api/forward", {"run": "t", "prompt": "abc"}), 400, "\"source\".*required", "no source")
expect(post("/api/forward", {"run": "t", "source": ""}), 400, "source is empty", "an empty source")
expect(post("/api/forward", {"run": "t", "source": "abc", "target": "cba", "position": 4}), 400, "position", "a position past the decoder input")
expect(post("/api/translate", {"run": "t", "source": "abc", "beam": 0}), 400, "beam", "beam 0")
expect(post("/api/translate", {"run": "t", "source": long_text}), 400, "source_block_size", "translate: a source over source_block_size")
expect(post("/api/generate", {"run": "t", "prompt": "abc", "n": 1}), 400, "transformer.*/api/translate", "generate on a transformer")
expect(post("/api/backprop", {"run": "t", "prompt": "abc"}), 400,
       "the backprop view is for model = gpt; this run is model = transformer", "backprop on a transformer")
expect(post("/api/translate", {"run": "a", "source": "abc"}), 400, "translate is for model = transformer; this run is model = gpt",
       "translate on a gpt")


expect(get("/nope"), 404, "no such route", "unknown route")
expect(request("GET", "/../../etc/passwd"), 404, "", "../ in the path")
expect(request("GET", "/%2e%2e/%2e%2e/etc/passwd"), 404, "", "encoded ../ in the path")
expect(request("GET", "/api/metrics?run=..%2F..%2Fetc"), 404, "no run named", "../ in a run name")
expect(request("GET", "/api/metrics?run=%2Fetc%2Fpasswd"), 404, "no run named", "an absolute path as run name")
expect(get("/api/metrics?run=escape"), 404, "no run named", "a symlink out of the served folder")
expect(get("/api/metrics"), 400, "run parameter is required", "metrics without a run")
expect(request("POST", "/api/forward", raw=b"{not json"), 400, "malformed", "malformed JSON")
expect(request("POST", "/api/forward", raw=b"[1, 2]"), 400, "JSON object", "a JSON array body")
expect(post("/api/forward", {"prompt": "x"}), 400, "run", "no run")
expect(post("/api/forward", {"run": "zzz", "prompt": "x"}), 404, "no run named", "unknown run")
expect(post("/api/forward", {"run": "a", "prompt": "the quick brown fox jumps over"}), 400, "block_size", "a prompt over block_size tokens")
expect(post("/api/forward", {"run": "a", "prompt": "x" * 20000}), 400, "16384", "a prompt over the byte limit")
expect(request("POST", "/api/forward", raw=b" " * 70000), 413, "65536", "a body over the limit")  # 413 for every framing (issue 27)
expect(post("/api/forward", {"run": "a", "prompt": "the", "temperature": -1}), 400, "temperature", "negative temperature")
expect(post("/api/forward", {"run": "a", "prompt": "the", "top_p": 2}), 400, "top_p", "top_p > 1")
expect(post("/api/forward", {"run": "a", "prompt": "the", "top_k": "five"}), 400, "top_k", "top_k not a number")
expect(post("/api/forward", {"run": "a", "prompt": "Ωmega"}), 400, "prompt", "a character outside the vocabulary")
expect(post("/api/generate", {"run": "a", "prompt": "the", "n": 100000}), 400, "n must be in", "too many new tokens")
expect(post("/api/backprop", {"run": "a", "prompt": "the", "position": 9}), 400, "position", "position past the prompt")
expect(post("/api/backprop", {"run": "a", "prompt": "the", "position": 2}), 400, "target is required", "last position without a target")
expect(post("/api/backprop", {"run": "a", "prompt": "the", "target": 10 ** 6}), 400, "target", "target outside the vocabulary")

# ---- concurrent requests ----
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    bodies = [{"run": "a", "prompt": PROMPT[:4 + k], "temperature": 1.0} for k in range(8)]
    results = list(pool.map(lambda body: post("/api/forward", body), bodies)) + list(pool.map(lambda _: get("/api/metrics?run=a"), range(8)))
check(all(status == 200 for status, _ in results), "16 concurrent requests all answered 200")
check(all(r[1]["T"] == 4 + k for k, r in enumerate(results[:8])), "each concurrent forward answered its own prompt")

# ---- a removed run folder ----
shutil.rmtree(WORK + "/runs/b")
expect(get("/api/metrics?run=b"), 404, "no run named 'b'", "a run folder removed while served")
status, runs = get("/api/runs")
check(status == 200 and [r["name"] for r in runs["runs"]] == ["a", "bert", "m", "t"], "the server lives on and lists what is left")

# ---- a checkpoint replaced by a running train ----
subprocess.run([GPT, "train", "--resume", WORK + "/runs/a", "--max_iters", "25", "--threads", "1", "--report_every", "0"],
               capture_output=True, check=True)
status, reloaded = post("/api/forward", {"run": "a", "prompt": PROMPT, "temperature": 1.0})
status, model = get("/api/model?run=a")
check(model["loads"] == 2 and reloaded["sampling"]["candidates"][0]["p_temperature"] != f1["sampling"]["candidates"][0]["p_temperature"],
      f"the checkpoint replaced by gpt train --resume is reloaded (loads {model['loads']})")
status, m2 = get("/api/metrics?run=a")
check(m2["step"][-1] == 25 and len(m2["step"]) > len(m["step"]), f"metrics follow the run (last step {m2['step'][-1]})")

# The same for a transformer run: its checkpoint, replaced, is reloaded as an encoder–decoder.
subprocess.run([GPT, "train", "--resume", WORK + "/runs/t", "--max_iters", "12", "--threads", "1"], capture_output=True, check=True)
status, model_t2 = get("/api/model?run=t")
status_f, ft2 = post("/api/forward", {"run": "t", "source": SOURCE, "target": "fed", "position": 1})
check(status == 200 and model_t2["loads"] == 2 and model_t2["model"] == "transformer" and status_f == 200 and
      ft2["candidates"][0]["p"] != fg["candidates"][0]["p"],
      f"the transformer checkpoint replaced by gpt train --resume is reloaded (loads {model_t2.get('loads')})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
