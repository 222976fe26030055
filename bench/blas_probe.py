"""Which OpenBLAS kernels make the installed PyTorch fastest here, correctly (benchmarks only).

Debian's OpenBLAS 0.3.21 does not recognise every CPU and then falls back to its SSE3 ("Prescott")
kernels; OPENBLAS_CORETYPE names a kernel set instead. This probe times a 1024 x 1024 float32 product
through torch under each candidate (each in its own process: OpenBLAS reads the variable once, at load),
checks it against a float64 product, and returns the fastest correct one. Benchmarks give that
environment to their PyTorch peer and record the choice; tests and CI never set these variables.

usage (standalone): /usr/bin/python3 bench/blas_probe.py [--threads 2]   prints the table and the choice
"""
import argparse
import json
import os
import subprocess
import sys

CANDIDATES = ["", "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen"]
HANDICAPS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

_PROBE = r"""
import json, time, torch
torch.manual_seed(0)
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
ref = (a.double() @ b.double())
c = a @ b
err = ((c.double() - ref).abs().max() / ref.abs().max()).item()
times = []
for _ in range(7):
    t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
config = torch.__config__.show()
print(json.dumps({"ms": 1000 * sorted(times)[3], "rel_err": err, "torch": torch.__version__,
                  "blas": "openblas" if "OpenBLAS" in config or "openblas" in config else "other"}))
"""


def clean_env(threads=None):
    env = {k: v for k, v in os.environ.items() if k not in HANDICAPS}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def probe(python=sys.executable, threads=None):
    """[(coretype, result dict or None)], and the best coretype ("" = OpenBLAS's own choice)."""
    rows = []
    for coretype in CANDIDATES:
        env = clean_env(threads)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        proc = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, env=env)
        result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 and proc.stdout.strip() else None
        if result is not None:
            result["correct"] = result["rel_err"] < 1e-5
        rows.append((coretype, result))
    usable = [(r["ms"], c) for c, r in rows if r is not None and r["correct"]]
    best = min(usable)[1] if usable else ""
    return rows, best


def torch_env(best, threads=None):
    """The environment for the PyTorch peer: the probe's best kernels."""
    env = clean_env(threads)
    if best:
        env["OPENBLAS_CORETYPE"] = best
    return env


def table(rows, best):
    lines = ["| OPENBLAS_CORETYPE | 1024² sgemm ms | max rel. error | correct |", "|---|---|---|---|"]
    for coretype, r in rows:
        name = coretype or "(unset: OpenBLAS's detection)"
        if r is None:
            lines.append(f"| {name} | failed | | |")
        else:
            mark = " ← used" if coretype == best else ""
            lines.append(f"| {name}{mark} | {r['ms']:.2f} | {r['rel_err']:.1e} | {'yes' if r['correct'] else 'NO'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows, best = probe(args.python, args.threads)
    print(table(rows, best))
    print(f"fastest correct: {best or '(unset)'}")
