"""bench/speedrun.py's evaluation of nanoGPT checkpoints with nanoGPT's own model class, on the windows
`gpt eval` uses: consecutive non-overlapping windows of block_size inputs, targets shifted by one, the last
partial window dropped; the mean loss over every target.

usage: /usr/bin/python3 bench/nanogpt_eval.py NANOGPT_WORK_DIR VAL_TEXT CKPT.pt...   prints a JSON list of losses
"""
import json
import os
import pickle
import sys

import torch


def main(work, val_path, checkpoints):
    sys.path.insert(0, work)
    from model import GPT, GPTConfig  # nanoGPT's model.py

    with open(os.path.join(work, "data", "shakespeare_char", "meta.pkl"), "rb") as f:
        stoi = pickle.load(f)["stoi"]
    ids = torch.tensor([stoi[c] for c in open(val_path, encoding="utf-8").read()], dtype=torch.long)
    losses = []
    for path in checkpoints:
        ckpt = torch.load(path, map_location="cpu")
        model = GPT(GPTConfig(**ckpt["model_args"]))
        state = {k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()}
        model.load_state_dict(state)
        model.eval()
        T = ckpt["model_args"]["block_size"]
        windows = (len(ids) - 1) // T
        x = ids[: windows * T].view(windows, T)
        y = ids[1: windows * T + 1].view(windows, T)
        total = 0.0
        with torch.no_grad():
            for b in range(0, windows, 64):
                _, loss = model(x[b:b + 64], y[b:b + 64])
                total += loss.item() * x[b:b + 64].numel()
        losses.append(total / (windows * T))
    print(json.dumps(losses))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
