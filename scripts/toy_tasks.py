#!/usr/bin/env python3
"""Write reproducible toy translation tasks for the encoder-decoder Transformer (model = transformer) as
parallel corpora: one `source<TAB>target` line per example (data/parallel_corpus.h).

Tasks:
  reverse   a random lowercase string (3-12 letters) -> the string reversed
  numbers   an integer 0-999999 in digits -> in English words ("1042" -> "one thousand forty-two")
  dates     a date as YYYY-MM-DD -> "D Month YYYY" ("2021-03-07" -> "7 March 2021")
  addition  "a+b" with a, b in 0-999 -> the sum in digits

Held-out splits: every task draws distinct sources, then splits them into train / valid / test, so no
source of valid or test occurs in train. The same --seed writes the same files (Python's random.Random,
no other state).

Usage: scripts/toy_tasks.py --out DIR [--tasks reverse,numbers,dates,addition] [--seed 29]
                            [--train 20000] [--valid 500] [--test 1000]
Writes DIR/<task>/{train,valid,test}.tsv.
"""
import argparse
import datetime
import os
import random
import sys

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
       "sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
MONTHS = "January February March April May June July August September October November December".split()


def words_below_1000(n):
    parts = []
    if n >= 100:
        parts.append(ONES[n // 100] + " hundred")
        n %= 100
        if n == 0:
            return " ".join(parts)
    if n < 20:
        parts.append(ONES[n])
    else:
        parts.append(TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else ""))
    return " ".join(parts)


def number_words(n):
    if n < 1000:
        return words_below_1000(n)
    thousands, rest = divmod(n, 1000)
    return words_below_1000(thousands) + " thousand" + (" " + words_below_1000(rest) if rest else "")


def reverse(rng):
    s = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
    return s, s[::-1]


def numbers(rng):
    n = rng.randint(0, 999999) if rng.random() < 0.8 else rng.randint(0, 999)
    return str(n), number_words(n)


def dates(rng):
    d = datetime.date(1900, 1, 1) + datetime.timedelta(days=rng.randint(0, 73048))  # to 2099-12-31
    return d.isoformat(), f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def addition(rng):
    a, b = rng.randint(0, 999), rng.randint(0, 999)
    return f"{a}+{b}", str(a + b)


TASKS = {"reverse": reverse, "numbers": numbers, "dates": dates, "addition": addition}


def write_task(name, out, seed, sizes):
    rng = random.Random(f"{seed}:{name}")
    total = sum(sizes.values())
    pairs, seen = [], set()
    attempts = 0
    while len(pairs) < total:
        attempts += 1
        if attempts > 50 * total:
            sys.exit(f"toy_tasks.py: task {name} has fewer than {total} distinct sources; ask for fewer examples")
        source, target = TASKS[name](rng)
        if source not in seen:
            seen.add(source)
            pairs.append((source, target))
    os.makedirs(os.path.join(out, name), exist_ok=True)
    start = 0
    for split, size in sizes.items():
        with open(os.path.join(out, name, f"{split}.tsv"), "w", encoding="utf-8", newline="\n") as f:
            for source, target in pairs[start:start + size]:
                f.write(f"{source}\t{target}\n")
        start += size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--train", type=int, default=20000)
    parser.add_argument("--valid", type=int, default=500)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    for name in args.tasks.split(","):
        if name not in TASKS:
            sys.exit(f"toy_tasks.py: --tasks: unknown task '{name}' (known: {', '.join(TASKS)})")
    for option in ("train", "valid", "test"):
        if getattr(args, option) < 1:
            sys.exit(f"toy_tasks.py: --{option} must be at least 1")
    sizes = {"train": args.train, "valid": args.valid, "test": args.test}
    for name in args.tasks.split(","):
        write_task(name, args.out, args.seed, sizes)
        print(f"{args.out}/{name}: {args.train} train, {args.valid} valid, {args.test} test examples")


if __name__ == "__main__":
    main()
