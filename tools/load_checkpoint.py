#!/usr/bin/env python3
"""Load a gpt-cpp checkpoint (HDF5) into a plain PyTorch module: h5py + torch, nothing else.

    import load_checkpoint as lc
    model, tokenizer = lc.load("out/ckpt.h5")          # model: lc.GPT (torch.nn.Module), eval mode
    ids = tokenizer.encode("To be")                    # or your own ids
    logits = model(torch.tensor([ids]))                # [1, T, vocab_size]
    text = tokenizer.decode(ids)

The model kind is the checkpoint's (/model's `model` attribute): gpt and bert give lc.GPT (bert:
bidirectional attention, `[MASK]` in --text is its mask token, and it does not generate); transformer
gives lc.EncoderDecoder, PyTorch's own nn.Transformer(batch_first=True) holding the weights, whose
translate(source_ids) decodes greedily (`--source TEXT` on the command line).

Command line: load_checkpoint.py CKPT [--text "The " | --ids 1,2,3 | --ids-file F] [--logits-out F.bin]
[--greedy N] (gpt, bert), or CKPT --source TEXT [--greedy N] (transformer), prints the config, then writes the logits of the ids as raw float32 (row-major [T, V])
and/or greedily extends them by N tokens and prints the decoded text. --text is encoded with the
checkpoint's own tokenizer (character-level, BPE or GPT-2's, from its /tokenizer group); ids must be
below the model's vocab_size.

Needs h5py and torch: on Debian, run it with /usr/bin/python3 and the packages python3-h5py and
python3-torch (a python3 from pyenv, conda or a venv first on PATH usually has neither).

The maths is docs/checkpoint_format.md's "The model's maths": pre-LN blocks, LayerNorm eps 1e-5 (or
RMSNorm, eps 1e-5, with norm = "rmsnorm"), GELU in its tanh form (or squared ReLU, or SwiGLU), optional
QK-norm, an untied head lm_head.weight when present, c_attn rows = q heads, k heads, v heads; query head h reads key/value head
h // (n_head // n_kv_head); scores / sqrt(head_dim), causal; head tied to wte; positions learned
(wpe), sinusoidal (computed) or rotary (rope on q and k); attention "mha" or "mla" (multi-head latent
attention, explicit form). Dropout is not applied (inference).
"""
import argparse
import math
import sys

import unicodedata

try:
    import h5py
    import torch
except ImportError as e:
    _message = (f"load_checkpoint.py needs h5py and torch, and {sys.executable} has no {e.name!r} ({e}); "
                "run it with Debian's /usr/bin/python3 after apt-get install python3-h5py python3-torch")
    if __name__ == "__main__":
        print("error: " + _message, file=sys.stderr)
        sys.exit(1)
    raise ImportError(_message) from e


def _str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class GPT(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.cfg = cfg
        self.w = torch.nn.ParameterDict(
            {k.replace(".", "__"): torch.nn.Parameter(torch.from_numpy(v), requires_grad=False) for k, v in weights.items()})
        if cfg["pos_encoding"] == "sinusoidal":
            T, C = cfg["block_size"], cfg["n_embd"]
            p = torch.arange(T, dtype=torch.float64)[:, None]
            j = torch.arange(C)
            angle = p / torch.pow(10000.0, (j - j % 2).to(torch.float64) / C)
            self.register_buffer("pos_table", torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).float())

    def p(self, name):
        key = name.replace(".", "__")
        return self.w[key] if key in self.w else None

    def linear(self, x, prefix):
        y = x @ self.p(prefix + ".weight").T
        b = self.p(prefix + ".bias")
        return y if b is None else y + b

    def layer_norm(self, x, prefix):  # ln_1, ln_2, ln_f: LayerNorm, or RMSNorm with norm = "rmsnorm"
        if self.cfg["norm"] == "rmsnorm":
            return self.rms_norm(x, self.p(prefix + ".weight"))
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.p(prefix + ".weight"), self.p(prefix + ".bias"), 1e-5)

    @staticmethod
    def rms_norm(x, w):  # x / sqrt(mean(x^2) + 1e-5) * w over the last axis
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5) * w

    def mlp_act(self, a):  # mlp: gelu (tanh form) | relu2: relu(a)^2 | swiglu: c_fc rows [gate; value] -> silu(gate) * value
        if self.cfg["mlp"] == "relu2":
            return torch.relu(a) ** 2
        if self.cfg["mlp"] == "swiglu":
            gate, value = a.chunk(2, dim=-1)
            return torch.nn.functional.silu(gate) * value
        return self.gelu(a)

    @staticmethod
    def gelu(x):  # GELU's tanh form (GPT-2's gelu_new), not torch.nn.GELU()'s exact erf form
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    @staticmethod
    def rope(x):  # x [B, T, n, d]: GPT-NeoX rotate-half, i pairs with i + d/2, angle t·10000^(-2i/d)
        T, d = x.shape[1], x.shape[-1]
        inv = torch.pow(10000.0, -torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
        angle = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        cos, sin = torch.cos(angle).float()[None, :, None, :], torch.sin(angle).float()[None, :, None, :]
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def attend(self, q, k, v, scale):  # q, k [B, T, H, dk], v [B, T, H, dv] -> [B, T, H·dv], causal (bert: not)
        B, T, H, dv = v.shape
        att = (q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2)) * scale
        if self.cfg["kind"] != "bert":
            att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        att = att.softmax(dim=-1)
        return (att @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T, H * dv)

    def mha(self, h, pre):
        cfg = self.cfg
        B, T, C = h.shape
        H, Hkv = cfg["n_head"], cfg["n_kv_head"]
        hd = C // H
        q, k, v = self.linear(h, pre + "attn.c_attn").split([H * hd, Hkv * hd, Hkv * hd], dim=-1)
        q, k, v = q.view(B, T, H, hd), k.view(B, T, Hkv, hd), v.view(B, T, Hkv, hd)
        if cfg["qk_norm"]:  # each q and k head RMS-normalised, gains [hd], before rope
            q, k = self.rms_norm(q, self.p(pre + "attn.q_norm.weight")), self.rms_norm(k, self.p(pre + "attn.k_norm.weight"))
        if cfg["pos_encoding"] == "rope":
            q, k = self.rope(q), self.rope(k)
        k, v = k.repeat_interleave(H // Hkv, dim=2), v.repeat_interleave(H // Hkv, dim=2)
        return self.attend(q, k, v, 1.0 / math.sqrt(hd))

    def mla(self, h, pre):  # multi-head latent attention, explicit form (docs/checkpoint_format.md)
        cfg = self.cfg
        B, T, C = h.shape
        H, dcq = cfg["n_head"], cfg["q_latent_dim"]
        dh = C // H
        dR = (cfg["rope_head_dim"] or dh // 2) if cfg["pos_encoding"] == "rope" else 0
        q_in = self.linear(h, pre + "attn.c_q_down") if dcq else h
        q = self.linear(q_in, pre + ("attn.c_q_up" if dcq else "attn.c_q")).view(B, T, H, dh)
        c_kv = self.linear(h, pre + "attn.c_kv_down")
        k = self.linear(c_kv, pre + "attn.c_k_up").view(B, T, H, dh)
        v = self.linear(c_kv, pre + "attn.c_v_up").view(B, T, H, dh)
        if dR:
            q_r = self.rope(self.linear(q_in, pre + "attn.c_q_rope").view(B, T, H, dR))
            k_r = self.rope(self.linear(h, pre + "attn.c_k_rope").view(B, T, 1, dR)).expand(B, T, H, dR)
            q, k = torch.cat([q, q_r], dim=-1), torch.cat([k, k_r], dim=-1)
        return self.attend(q, k, v, 1.0 / math.sqrt(dh + dR))

    def forward(self, ids):  # ids [B, T] int64 -> logits [B, T, V]
        cfg = self.cfg
        T = ids.shape[1]
        x = self.p("wte.weight")[ids]
        if cfg["pos_encoding"] == "learned":
            x = x + self.p("wpe.weight")[:T]
        elif cfg["pos_encoding"] == "sinusoidal":
            x = x * math.sqrt(cfg["n_embd"]) + self.pos_table[:T]  # tokens scaled by sqrt(C), as the original Transformer
        for layer in range(cfg["n_layer"]):
            pre = f"h.{layer}."
            h = self.layer_norm(x, pre + "ln_1")
            y = self.mla(h, pre) if cfg["attention"] == "mla" else self.mha(h, pre)
            x = x + self.linear(y, pre + "attn.c_proj")
            h = self.mlp_act(self.linear(self.layer_norm(x, pre + "ln_2"), pre + "mlp.c_fc"))
            x = x + self.linear(h, pre + "mlp.c_proj")
        head = self.p("lm_head.weight")  # tie_embeddings = false; else the head is wte
        return self.layer_norm(x, "ln_f") @ (head if head is not None else self.p("wte.weight")).T

class EncoderDecoder(torch.nn.Module):
    """model = transformer: PyTorch's nn.Transformer(batch_first=True) with the checkpoint's weights (names
    mapped as nn/transformer_layers.h lists them), the embeddings times sqrt(C) plus the sinusoidal table,
    and the output projection (the target embedding, or lm_head). Post-norm has no final norms."""

    LAYER = {"attn.c_attn": "self_attn.in_proj_", "attn.c_proj": "self_attn.out_proj.", "mlp.c_fc": "linear1.",
             "mlp.c_proj": "linear2.", "cross_attn.c_proj": "multihead_attn.out_proj.", "ln_1": "norm1.",
             "ln_2": "norm2.", "ln_3": "norm3."}

    def __init__(self, cfg, weights):
        super().__init__()
        self.cfg = cfg
        C = cfg["n_embd"]
        act = {"relu": "relu", "gelu": "gelu"}.get(cfg["activation"],
                                                     lambda x: torch.nn.functional.gelu(x, approximate="tanh"))
        self.transformer = torch.nn.Transformer(
            d_model=C, nhead=cfg["n_head"], num_encoder_layers=cfg["n_encoder_layer"],
            num_decoder_layers=cfg["n_decoder_layer"], dim_feedforward=cfg["dim_feedforward"], dropout=0.0,
            activation=act, batch_first=True, norm_first=cfg["norm_first"])
        if not cfg["norm_first"]:
            self.transformer.encoder.norm = None
            self.transformer.decoder.norm = None
        w = {k: torch.from_numpy(v) for k, v in weights.items()}
        state = {}
        for name in self.transformer.state_dict():
            stack, rest = name.split(".", 1)
            if rest.startswith("norm."):
                state[name] = w[f"{stack}.ln_f.{rest[5:]}"]
                continue
            _, i, inner = rest.split(".", 2)
            pre = f"{stack}.h.{i}."
            if inner.startswith("multihead_attn.in_proj_"):
                part = inner.rsplit("_", 1)[1]  # weight | bias: rows [c_q; c_kv]
                state[name] = torch.cat([w[pre + "cross_attn.c_q." + part], w[pre + "cross_attn.c_kv." + part]])
                continue
            ours = next(k for k, v in self.LAYER.items() if inner.startswith(v))
            state[name] = w[pre + ours + "." + inner[len(self.LAYER[ours]):]]
        self.transformer.load_state_dict(state)
        self.wte = w["wte.weight"]
        self.wte_source = w.get("wte_source.weight", self.wte)
        self.head = w.get("lm_head.weight", self.wte)

    def embed(self, ids, table):  # ids [B, T] -> [B, T, C]: wte·sqrt(C) + the sinusoidal table
        T, C = ids.shape[1], self.cfg["n_embd"]
        p = torch.arange(T, dtype=torch.float64)[:, None]
        j = torch.arange(C)
        angle = p / torch.pow(10000.0, (j - j % 2).to(torch.float64) / C)
        pe = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).float()
        return table[ids] * math.sqrt(C) + pe

    def forward(self, source, target_in):  # [B, S], [B, T] (bos, y_1..) -> logits [B, T, V_tgt]
        T = target_in.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        out = self.transformer(self.embed(source, self.wte_source), self.embed(target_in, self.wte), tgt_mask=causal)
        return out @ self.head.T

    def translate(self, source, max_new_tokens=None):
        """Greedy decoding, as gpt translate: bos = V, eos = V + 1 (V the tokenizer's size); the ids, eos
        excluded."""
        bos, eos = self.cfg["target_vocab_size"] - 2, self.cfg["target_vocab_size"] - 1
        limit = self.cfg["target_block_size"] - 1 if max_new_tokens is None else max_new_tokens
        out = [bos]
        with torch.no_grad():
            while len(out) - 1 < limit:
                nxt = int(self(torch.tensor([source]), torch.tensor([out]))[0, -1].argmax())
                if nxt == eos:
                    break
                out.append(nxt)
        return out[1:]


def _is_space(c):  # Python regex's \s, as data/pretokenize.h: the White_Space property
    return "\t" <= c <= "\r" or c == "\x85" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _is_letter(c):
    return unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def pretokenize(text):
    """GPT-2's pre-split (data/pretokenize.h), written out without the regex module:
    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    pieces, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            for c in ("s", "t", "re", "ve", "m", "ll", "d"):
                if text.startswith(c, i + 1):
                    break
            else:
                c = None
            if c is not None:
                pieces.append(text[i:i + 1 + len(c)])
                i += 1 + len(c)
                continue
        j = i + 1 if text[i] == " " and i + 1 < n else i
        matched = False
        for cls in (_is_letter, _is_number, lambda ch: not (_is_space(ch) or _is_letter(ch) or _is_number(ch))):
            if cls(text[j]):
                k = j
                while k < n and cls(text[k]):
                    k += 1
                pieces.append(text[i:k])
                i, matched = k, True
                break
        if matched:
            continue
        k = i  # whitespace: a run, leaving its last character to the word that follows it
        while k < n and _is_space(text[k]):
            k += 1
        if k < n and k - i > 1:
            k -= 1
        pieces.append(text[i:k])
        i = k
    return pieces


class Tokenizer:
    """The checkpoint's /tokenizer: id -> bytes (decode) and text -> ids (encode), for the character
    tokenizer (one id per character), byte-level BPE and GPT-2's (GPT-2's pre-split, then the merges in
    rank order: merge k makes id 256 + k). Special tokens in the text are encoded as ordinary text, as
    gpt sample does."""

    def __init__(self, group):
        self.type = _str(group.attrs["type"])
        data, offsets = group["token_bytes"][()].tobytes(), group["token_offsets"][()]
        self.tokens = [data[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
        self.special_ids = [int(i) for i in group["special_ids"][()]]
        merges = group["merges"][()].reshape(-1, 2) if "merges" in group else []
        self.merge_rank = {(int(a), int(b)): k for k, (a, b) in enumerate(merges)}
        ordinary = [i for i in range(len(self.tokens)) if i not in set(self.special_ids)]
        self.byte_id = {self.tokens[i]: i for i in ordinary if len(self.tokens[i]) == 1}
        self.char_id = {self.tokens[i].decode("utf-8", errors="replace"): i for i in ordinary}

    def decode(self, ids):
        return b"".join(self.tokens[i] for i in ids if i < len(self.tokens)).decode("utf-8", errors="replace")

    def special(self, name):
        return next(i for i in self.special_ids if self.tokens[i] == name.encode())

    def encode_with_masks(self, text):
        """bert, as gpt fill reads text (generate/fill.h): [CLS] text [SEP], each literal [MASK] the mask
        token, the rest encoded as text."""
        ids = [self.special("[CLS]")]
        for k, part in enumerate(text.split("[MASK]")):
            ids += ([self.special("[MASK]")] if k else []) + (self.encode(part) if part else [])
        return ids + [self.special("[SEP]")]

    def encode(self, text):
        if self.type == "char":
            ids = []
            for offset, c in enumerate(text):
                if c not in self.char_id:
                    raise ValueError(f"character {c!r} (U+{ord(c):04X}) at offset {offset} is not in the "
                                     "checkpoint's vocabulary")
                ids.append(self.char_id[c])
            return ids
        ids = []
        for piece in pretokenize(text):
            symbols = [self.byte_id[bytes([b])] for b in piece.encode("utf-8")]
            while len(symbols) > 1:
                ranks = [self.merge_rank.get(pair, math.inf) for pair in zip(symbols, symbols[1:])]
                best = min(ranks)
                if best == math.inf:
                    break
                pair, merged, i = (symbols[ranks.index(best)], symbols[ranks.index(best) + 1]), [], 0
                while i < len(symbols):
                    if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                        merged.append(256 + best)
                        i += 2
                    else:
                        merged.append(symbols[i])
                        i += 1
                symbols = merged
            ids.extend(symbols)
        return ids


def _load_encoder_decoder(f):
    a = f["config"].attrs
    cfg = {k: int(a[k]) for k in ("source_vocab_size", "target_vocab_size", "source_block_size", "target_block_size",
                                   "n_encoder_layer", "n_decoder_layer", "n_head", "n_embd", "dim_feedforward")}
    cfg.update(kind="transformer", activation=_str(a["activation"]), norm_first=bool(int(a["norm_first"])))
    if cfg["dim_feedforward"] == 0:
        cfg["dim_feedforward"] = 4 * cfg["n_embd"]
    weights = {}
    f["model"].visititems(lambda name, obj: weights.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return EncoderDecoder(cfg, weights).eval(), Tokenizer(f["tokenizer"])


def load(path):
    with h5py.File(path, "r") as f:
        kind = _str(f["model"].attrs["model"]) if "model" in f["model"].attrs else "gpt"  # absent: older, gpt
        if kind == "transformer":
            return _load_encoder_decoder(f)
        a = f["config"].attrs
        cfg = {k: int(a[k]) for k in ("vocab_size", "block_size", "n_layer", "n_head", "n_kv_head", "n_embd")}
        cfg["kind"] = kind
        cfg["pos_encoding"] = _str(a["pos_encoding"])
        cfg["attention"] = _str(a["attention"]) if "attention" in a else "mha"  # absent before MLA: mha
        for key in ("kv_latent_dim", "q_latent_dim", "rope_head_dim"):
            cfg[key] = int(a[key]) if key in a else 0
        # issue 31's options; absent = GPT-2's
        cfg["norm"] = _str(a["norm"]) if "norm" in a else "layernorm"
        cfg["mlp"] = _str(a["mlp"]) if "mlp" in a else "gelu"
        cfg["qk_norm"] = bool(int(a["qk_norm"])) if "qk_norm" in a else False
        if cfg["n_kv_head"] == 0:
            cfg["n_kv_head"] = cfg["n_head"]
        weights = {}
        f["model"].visititems(lambda name, obj: weights.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        tokenizer = Tokenizer(f["tokenizer"])
    model = GPT(cfg, weights).eval()
    return model, tokenizer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--text", help="text to encode with the checkpoint's own tokenizer")
    ap.add_argument("--ids", help="comma-separated token ids")
    ap.add_argument("--ids-file", help="file of whitespace-separated token ids")
    ap.add_argument("--logits-out", help="write the logits [T, V] as raw float32")
    ap.add_argument("--greedy", type=int, default=0, help="extend the ids greedily by N tokens and print the text")
    ap.add_argument("--source", help="transformer: the source text to translate greedily")
    args = ap.parse_args()
    model, tokenizer = load(args.checkpoint)
    print("config", model.cfg, "tokenizer", tokenizer.type, len(tokenizer.tokens))
    kind = model.cfg["kind"]
    if (kind == "transformer") != (args.source is not None) or (kind == "transformer" and (args.text or args.ids or args.ids_file)):
        print(f"error: a model = {kind} checkpoint takes " +
              ("--source TEXT [--greedy N]" if kind == "transformer" else "--text, --ids or --ids-file, not --source"),
              file=sys.stderr)
        return 2
    if kind == "transformer":
        try:
            source = tokenizer.encode(args.source)
        except ValueError as e:
            print(f"error: --source: {e}", file=sys.stderr)
            return 2
        if not 1 <= len(source) <= model.cfg["source_block_size"]:
            print(f"error: --source has {len(source)} tokens; the encoder reads 1..{model.cfg['source_block_size']}",
                  file=sys.stderr)
            return 2
        print(tokenizer.decode(model.translate(source, args.greedy or None)))
        return 0
    if kind == "bert" and args.greedy:
        print("error: a bert checkpoint does not generate (--greedy); --logits-out gives its predictions at every "
              "position, [MASK] in --text included", file=sys.stderr)
        return 2
    ids = []
    if sum(x is not None for x in (args.text, args.ids, args.ids_file)) > 1:
        print("error: give one of --text, --ids, --ids-file", file=sys.stderr)
        return 2
    try:
        if args.text is not None:
            ids = tokenizer.encode_with_masks(args.text) if kind == "bert" else tokenizer.encode(args.text)
        elif args.ids:
            ids = [int(i) for i in args.ids.split(",")]
        elif args.ids_file:
            ids = [int(i) for i in open(args.ids_file).read().split()]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    vocab = model.cfg["vocab_size"]
    bad = [i for i in ids if not 0 <= i < vocab]
    if bad:
        print(f"error: token id {bad[0]} is outside this checkpoint's vocabulary [0, {vocab}) "
              f"({tokenizer.type} tokenizer, {len(tokenizer.tokens)} tokens); --text encodes text with it",
              file=sys.stderr)
        return 2
    if len(ids) > model.cfg["block_size"] and args.logits_out:
        print(f"error: {len(ids)} ids, more than the model's block_size {model.cfg['block_size']}", file=sys.stderr)
        return 2
    if not ids:
        return 0
    with torch.no_grad():
        logits = model(torch.tensor([ids[-model.cfg["block_size"]:]]))[0]
        if args.logits_out:
            logits.float().numpy().tofile(args.logits_out)
        for _ in range(args.greedy):
            window = ids[-model.cfg["block_size"]:]
            ids.append(int(model(torch.tensor([window]))[0, -1].argmax()))
        if kind == "bert":  # each [MASK]'s 5 most probable ordinary tokens, as gpt fill lists them
            probs = logits.softmax(dim=-1)
            probs[:, tokenizer.special_ids] = -1.0
            for position in [i for i, t in enumerate(ids) if t == tokenizer.special("[MASK]")]:
                top = probs[position].topk(5)
                print(f"[MASK] at {position}: " + ", ".join(
                    f"{tokenizer.decode([int(i)])!r} {100 * float(p):.2f} %" for p, i in zip(top.values, top.indices)))
    if args.greedy:
        print(tokenizer.decode(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
