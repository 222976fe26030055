#!/usr/bin/env bash
# The progress bar fits the terminal: `gpt train` under a pseudo-terminal of 60 columns, then of 40
# (a resize between runs), never draws a line longer than the width minus one.
set -euo pipefail
build=$1
python=${2:-python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq 1 300); do echo "line $i of a small corpus, with some words to learn from."; done > "$dir/corpus.txt"

"$python" - "$build/gpt" "$dir" <<'PY'
import fcntl, os, pty, re, struct, sys, termios
gpt, tmp = sys.argv[1], sys.argv[2]
for columns in (60, 40):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(gpt, [gpt, "train", "--data", f"{tmp}/corpus.txt", "--out_dir", f"{tmp}/run{columns}",
                       "--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "8", "--batch_size", "2",
                       "--max_iters", "4000", "--eval_interval", "4000", "--eval_iters", "1", "--log_interval", "4000",
                       "--sample_tokens", "0", "--report_every", "0", "--threads", "1"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"gpt train exited {status} at {columns} columns:\n{out.decode(errors='replace')[-2000:]}")
    text = out.decode("utf-8", errors="replace").replace("\r\n", "\n")
    # Every redraw is "\r\033[K" + line; the last piece of each redraw is what stays on screen.
    bars = [re.split(r"[\r\n]", piece)[0] for piece in text.split("\r\033[K")[1:]]
    bars = [b for b in bars if b.startswith("[") or re.match(r"\d+/\d+ loss", b)]
    if not bars:
        sys.exit(f"no progress line drawn at {columns} columns:\n{text[-2000:]}")
    longest = max(len(b) for b in bars)
    if longest > columns - 1:
        sys.exit(f"a progress line of {longest} characters at {columns} columns: {max(bars, key=len)!r}")
    print(f"{columns} columns: {len(bars)} redraws, longest {longest} characters")
PY
