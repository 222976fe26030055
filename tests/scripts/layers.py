"""The include graph against docs/design.md's layer rules.

design.md holds the picture and, under "Layer rules", one line per folder naming the folders it may
include directly ("train -> checkpoint generate dist"); what those may include is allowed too
(transitively), nothing else is. The same section lists the headers only some folders may include
("io/hdf5.h: io checkpoint"). Every #include "folder/..." in the project's sources is checked against
both; a violation names the file, the line and the rule. Exit 1 on any violation or on a folder with
sources that the rules do not list.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
design = open(os.path.join(root, "docs", "design.md"), encoding="utf-8").read()
section = design.split("### Layer rules", 1)[1].split("\n## ", 1)[0]

direct, only = {}, {}
for line in section.splitlines():
    m = re.match(r"^\s{4}(\w+)\s+->\s*([\w ]*)$", line)
    if m:
        direct[m.group(1)] = m.group(2).split()
    m = re.match(r"^\s{4}([\w/.<>]+\.h>?):\s+([\w/. ]+)$", line)
    if m:
        only[m.group(1)] = m.group(2).split()
if not direct:
    sys.exit("layers: docs/design.md has no layer rules under '### Layer rules'")


def closure(folder, seen=None):
    seen = set() if seen is None else seen
    for d in direct.get(folder, []):
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen


allowed = {f: closure(f) | {f} for f in direct}
problems, edges = [], 0
source_folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
                        and any(n.endswith((".cpp", ".h")) for n in os.listdir(os.path.join(root, d))))
checked = [f for f in source_folders if f not in ("tests", "bench", "fuzz", "examples", "build", "build-asan")]
for folder in checked:
    if folder not in direct:
        problems.append(f"{folder}/: a folder of sources that docs/design.md's layer rules do not list")
        continue
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for name in sorted(names):
            if not name.endswith((".cpp", ".h", ".in")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            for number, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                m = re.match(r'\s*#\s*include\s+([<"])([^">]+)[">]', line)
                if not m:
                    continue
                header = m.group(2) if m.group(1) == '"' else "<" + m.group(2) + ">"
                target = header.split("/", 1)[0] if m.group(1) == '"' and "/" in header else None
                if target in direct and target != folder:
                    edges += 1
                    if target not in allowed[folder]:
                        problems.append(f"{rel}:{number}: includes {header}, but {folder}/ may not include {target}/ "
                                        f"(docs/design.md: {folder} -> {' '.join(direct[folder]) or 'nothing'})")
                for restricted, users in only.items():
                    if header == restricted and folder not in users and rel not in users:
                        problems.append(f"{rel}:{number}: includes {header}, which only {', '.join(users)} may include")
for p in problems:
    print("layers:", p)
print(f"layers: {edges} includes across {len(checked)} folders checked against {len(direct)} rules and "
      f"{len(only)} restricted headers: {len(problems)} violation(s)")
sys.exit(1 if problems else 0)
