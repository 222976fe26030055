#!/usr/bin/env python3
"""The README as a test: every shell command of README.md's code blocks (fenced ```sh blocks and
indented blocks) runs as written, in order, in a scratch copy of the working tree, offline, with only
the substitutions of SUBSTITUTIONS below (the ones a user would make: fewer steps, a local file instead
of a download). A command that fails, or a block this script does not know how to run (a fence in
another language than sh, or cmake which it names as such), fails the test.
New README commands are covered without editing this file: a command is run as written unless a rule
below matches it.

Usage: readme_commands.py BUILD_DIR [PYTHON_WITH_TORCH] [README (default: the copy's README.md)]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv[1])
PYTHON = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/python3"
README = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
WORK = tempfile.mkdtemp(prefix="gpt_readme_")
REPO, FIX = os.path.join(WORK, "repo"), os.path.join(WORK, "fixtures")
HF_URL = "https://huggingface.co/openai-community/gpt2/resolve/main/"


def shorter_max_iters(cmd):
    """gpt train: --max_iters N becomes max(2, N // 50) (100 -> 2, 200 -> 4); none given: 2 (a config's
    2000 or 4000, the default 2000); and a short evaluation (--eval_iters 2 unless given)."""
    if not re.search(r"(^|\s)build/gpt train\b", cmd) or "--help" in cmd:
        return cmd
    if re.search(r"--max_iters \d+", cmd):
        cmd = re.sub(r"--max_iters (\d+)", lambda m: f"--max_iters {max(2, int(m.group(1)) // 50)}", cmd)
    else:
        cmd += " --max_iters 2"
    return cmd if "--eval_iters" in cmd else cmd + " --eval_iters 2"


# (regex matching the command as written, what is done). Skips say why; a substitution is (pattern,
# replacement) applied with re.sub, or a function of the command. Listed in one place on purpose.
SUBSTITUTIONS = [
    (r"^bash scripts/run_default\.sh", ("skip", "installs packages and builds build/: the suite runs from that build; "
                                          "its training command is the README's configs/default.toml line")),
    (r"^bash scripts/test\.sh", ("skip", "runs this suite (recursion)")),
    (r"^bench/run\.sh", ("skip", "a benchmark: minutes, and needs gpt_bench")),
    (r"^bash bench/explainer_latency\.sh", ("skip", "a benchmark in Chromium: trains two models, minutes of timing")),
    (r"(^|\s)(python3 )?bench/\S+\.py\b", ("skip", "a benchmark script: minutes of training and timing")),
    (r"^build/gpt_bench ", ("skip", "a benchmark: gpt_bench is not part of the test build")),
    (r"^cmake --build build --target .*gpt_bench", ("skip", "builds the benchmark into the suite's build folder")),
    (r"^mpirun .*(--host|--hostfile)", ("skip", "needs other machines")),
    (r"^mpirun ", ("sub", r"^mpirun ", "mpirun --oversubscribe --allow-run-as-root ")),
    (r"^bash scripts/get_data\.sh", ("sub", r"^bash scripts/get_data\.sh",
                                     f"bash scripts/get_data.sh --url file://{FIX}/input.txt")),
    (re.escape(HF_URL), ("sub", re.escape(HF_URL), f"file://{FIX}/hf/")),
    (r"build/gpt (import|train) .*--block_size 256", ("sub", r"--block_size 256", "--block_size 16")),
    (r"^/usr/bin/python3 ", ("sub", r"^/usr/bin/python3 ", PYTHON + " ")),
    (r"build/gpt serve ", ("serve", "a server: started, asked for /, stopped")),
    (r"build/gpt train\b", ("fn", shorter_max_iters)),
]
# Fixtures (also substitutions): my.txt and some.txt are generated text; datasets' Tiny Shakespeare is
# a fixture file whose SHA-256 replaces the real one in the copy's scripts/get_data.sh; GPT-2's four
# files are tests/interop/hf_gpt2.py's small random GPT-2 (vocab 257, 32 positions).


def words(seed, n):
    vocab = "the quick brown fox jumps over a lazy dog and runs to see what she said about it".split()
    out, x = [], seed
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(vocab[(x >> 33) % len(vocab)] + (".\n" if (x >> 20) % 9 == 0 else " "))
    return "".join(out)


def prepare():
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in files:
        if not f or not os.path.isfile(os.path.join(ROOT, f)) or f.startswith(("build", "datasets/", "runs/")):
            continue
        os.makedirs(os.path.dirname(os.path.join(REPO, f)) or REPO, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(REPO, f))
    os.symlink(BUILD, os.path.join(REPO, "build"))
    os.makedirs(FIX)
    open(os.path.join(REPO, "my.txt"), "w").write(words(1, 8000))
    open(os.path.join(REPO, "some.txt"), "w").write(words(2, 2000))
    shakespeare = os.path.join(FIX, "input.txt")
    open(shakespeare, "w").write(words(3, 20000))
    sha = subprocess.run(["sha256sum", shakespeare], check=True, capture_output=True, text=True).stdout.split()[0]
    script = os.path.join(REPO, "scripts", "get_data.sh")
    text = open(script).read()
    open(script, "w").write(re.sub(r"(?m)^sha256=.*$", "sha256=" + sha, text))
    hf = os.path.join(FIX, "hf")
    os.makedirs(hf)
    open(os.path.join(FIX, "ids.txt"), "w").write("1 2 3\n")
    r = subprocess.run([PYTHON, os.path.join(ROOT, "tests", "interop", "hf_gpt2.py"), hf, os.path.join(FIX, "ids.txt")],
                       capture_output=True, text=True)
    return r.returncode == 0


def blocks(readme, indented=True):
    """(language, line number, lines) of every code block: fenced ones, and (indented=True) indented
    ones (4 spaces after a blank line, outside a fence)."""
    lines = open(readme).read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```\s*(\S*)\s*$", lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append((m.group(1) or "(none)", i + 1, lines[i + 1:j]))
            i = j + 1
            continue
        if indented and lines[i].startswith("    ") and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and lines[j].startswith("    "):
                j += 1
            out.append(("sh (indented)", i + 1, [l[4:] for l in lines[i:j]]))
            i = j
            continue
        i += 1
    return out


def commands(block_lines):
    cmds, pending = [], ""
    for line in block_lines:
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if line and not line.startswith("#"):
            cmds.append(line)
    return cmds


def run(cmd):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


def serve(cmd):
    proc = subprocess.Popen(["bash", "-c", "exec " + cmd + " --port 0"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        for _ in range(50):
            line = proc.stdout.readline()
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if m:
                import urllib.request
                return urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=10).status == 200, line
        return False, line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def pages():
    """(name, blocks) of the README (fenced and indented blocks), then of every docs/ page with a fenced
    shell block (their indented blocks are diagrams, not commands), in name order."""
    readme = README or os.path.join(REPO, "README.md")
    out = [("README.md", blocks(readme))]
    docs = os.path.join(REPO, "docs")
    for name in sorted(os.listdir(docs)):
        if name.endswith(".md"):
            found = [b for b in blocks(os.path.join(docs, name), indented=False) if b[0] in ("sh", "bash")]
            if found:
                out.append(("docs/" + name, found))
    return out


def main():
    have_hf = prepare()
    failures, ran, skipped = [], 0, []
    for page, where, lang, body in [(p, w, l, b) for p, bs in pages() for l, w, b in bs]:
        where = f"{page}:{where}"
        if lang == "cmake":
            skipped.append(f"{where}: a CMake snippet, not a command (tests/scripts/install_consumer.sh runs it)")
            continue
        if lang not in ("sh", "bash", "sh (indented)"):
            failures.append(f"{where}: a ```{lang} block this test does not know how to run")
            continue
        for cmd in commands(body):
            original, action = cmd, None
            for pattern, rule in SUBSTITUTIONS:
                if not re.search(pattern, original):
                    continue
                if rule[0] in ("skip", "serve"):
                    action = rule
                    break
                cmd = re.sub(rule[1], rule[2], cmd) if rule[0] == "sub" else rule[1](cmd)
            if action and action[0] == "skip":
                skipped.append(f"{where}: {original}  ({action[1]})")
                continue
            if HF_URL in original and not have_hf:
                skipped.append(f"{where}: {original}  (no torch to write the GPT-2 fixture)")
                continue
            if original.startswith("mpirun") and not shutil.which("mpirun"):
                skipped.append(f"{where}: {original}  (mpirun is not installed)")
                continue
            ran += 1
            if action and action[0] == "serve":
                ok, out = serve(cmd)
                print(("ok   " if ok else "FAIL ") + cmd)
                if not ok:
                    failures.append(f"{where}: {original}: no page ({out.strip()})")
                continue
            r = run(cmd)
            print(("ok   " if r.returncode == 0 else "FAIL ") + cmd + ("" if cmd == original else f"   [as written: {original}]"))
            if r.returncode != 0:
                failures.append(f"{where}: {original}: exit {r.returncode}\n{(r.stdout + r.stderr)[-1500:]}")
    for s in skipped:
        print("skip " + s)
    for f in failures:
        print("FAIL " + f)
    print(f"{ran} commands of the README and docs/ run, {len(skipped)} skipped (reasons above), {len(failures)} failed")
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
