#!/usr/bin/env python3
"""Held-out check for the triage corpus: no test line may be a near duplicate of a train line.

For every test line it finds the train line with the highest Jaccard word overlap (word sets,
lower case, letters and digits). It prints the maximum, how many test lines pass each threshold,
and the closest pairs. Exit status 1 if any pair is above --max (default 0.7).

    python3 scripts/corpus/check_overlap.py data/triage/train.tsv data/triage/test.tsv
"""

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, str(Path(__file__).resolve().parent))
from textnorm import NearestIndex  # noqa: E402


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            parts = line.split("\t")
            if len(parts) != 2 or not parts[1].strip():
                raise SystemExit(f"{path}:{n}: expected label<TAB>text")
            rows.append((parts[0], parts[1]))
    return rows


def overlaps(train_texts, test_texts):
    """For each test text: (similarity, test text, nearest train text), highest first."""
    index = NearestIndex(train_texts)
    found = []
    for text in test_texts:
        sim, near = index.nearest(text)
        found.append((sim, text, near))
    found.sort(key=lambda r: -r[0])
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--max", type=float, default=0.7, help="fail if any overlap is above this")
    ap.add_argument("--show", type=int, default=10, help="print this many closest pairs")
    args = ap.parse_args()

    train = [t for _, t in read_tsv(args.train)]
    test = [t for _, t in read_tsv(args.test)]
    found = overlaps(train, test)
    top = found[0][0] if found else 0.0
    print(f"train lines: {len(train)}  test lines: {len(test)}")
    print(f"max Jaccard word overlap test->train: {top:.3f}")
    for threshold in (0.7, 0.6, 0.5, 0.4):
        n = sum(1 for s, _, _ in found if s > threshold)
        print(f"  test lines with overlap > {threshold}: {n}")
    exact = len(set(t.lower() for t in test) & set(t.lower() for t in train))
    print(f"  exact duplicates (case-insensitive): {exact}")
    print("closest pairs:")
    for s, t, n in found[: args.show]:
        print(f"  {s:.3f}  test: {t}\n         train: {n}")
    bad = sum(1 for s, _, _ in found if s > args.max)
    if bad:
        print(f"FAIL: {bad} test lines overlap a train line by more than {args.max}")
        return 1
    print(f"OK: no test line overlaps a train line by more than {args.max}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
