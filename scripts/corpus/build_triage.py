#!/usr/bin/env python3
"""Builds data/triage/train.tsv and data/triage/test.tsv for the triage classifier.

Each file mixes three kinds of line:
  hand    utterances written for spoofex, data/triage/handwritten/{train,test}/<label>.txt
  round 2 hand-written training utterances added later, data/triage/handwritten/train2/<label>.txt,
          appended after train's other lines (so train.tsv's first lines, the test file and the
          recogniser readings of train.tsv keep their places); none may be a near duplicate of a
          test line
  round 3 the same again, data/triage/handwritten/train3/<label>.txt, appended after the round-2 lines
          (--without-round3 leaves them out, for ablations)
  round 4 the same again, data/triage/handwritten/train4/<label>.txt, appended after round 3 (or after
          round 2 with --without-round3; --without-round4 leaves them out)
  round 5 the same again, data/triage/handwritten/train5/<label>.txt, appended last (after the rounds
          before it that are in; --without-round5 leaves them out)
  frame   slot-filled frames (frames.py), a minority; train and test have separate frames and slot values
  public  rows from the public datasets in --shared (public_data.py), lightly cleaned

The test file is held out: its hand-written lines were written separately, its frames and slot values
are its own, and its public rows come from the datasets' own test files (disaster, CLINC150, BANKING77)
or from near-duplicate clusters assigned to test (SMS spam, robocalls). Any public row that is a near
duplicate of a line in the other file (textnorm.near_duplicate: Jaccard >= 0.45, or a line of 8+ words
mostly contained in it) is skipped. The build ends with the overlap check (check_overlap.py).

Deterministic: the same inputs give byte-identical outputs.

    python3 scripts/corpus/build_triage.py [--shared /work/shared/data] [--out data/triage] [--without-round3] [--without-round4]
        [--without-round5]
"""

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, str(HERE))

import frames  # noqa: E402
import public_data  # noqa: E402
from check_overlap import overlaps  # noqa: E402
from textnorm import NearestIndex, asr_style, stable_fraction  # noqa: E402

SEED = 20240611
LABELS = ("emergency", "inquiry", "complaint", "spam")
REPO = HERE.parent.parent

# How many times each frame is expanded with fresh slot values.
FRAME_EXPANSIONS = {"train": 5, "test": 2}

# Public rows per file. Disaster rows: all curated ids (public_data.DISASTER_*_IDS).
SMS_SPAM = {"train": 165, "test": 40}
# An upper bound: the robocall dev half holds few distinct campaigns, and one row per near-duplicate
# cluster (and none close to the other file) leaves about 60 for train and 10 for test.
ROBOCALLS = {"train": 130, "test": 35}
TEST_CLUSTER_SHARE = 0.25  # SMS spam and robocall near-duplicate clusters that go to test
INTENT_QUOTAS = {  # (source, intent, label): (train, test)
    ("clinc150", "traffic", "inquiry"): (22, 6),
    ("clinc150", "directions", "inquiry"): (8, 3),
    ("clinc150", "international_visa", "inquiry"): (8, 2),
    ("clinc150", "report_lost_card", "inquiry"): (3, 1),
    ("clinc150", "report_fraud", "inquiry"): (3, 0),
    ("banking77", "verify_my_identity", "inquiry"): (8, 2),
    ("banking77", "why_verify_identity", "inquiry"): (8, 2),
    ("banking77", "unable_to_verify_identity", "inquiry"): (5, 2),
    ("clinc150", "report_lost_card", "complaint"): (7, 2),
    ("clinc150", "report_fraud", "complaint"): (16, 4),
    ("clinc150", "lost_luggage", "complaint"): (10, 3),
    ("banking77", "lost_or_stolen_phone", "complaint"): (12, 3),
    ("banking77", "lost_or_stolen_card", "complaint"): (9, 4),
    ("banking77", "compromised_card", "complaint"): (14, 4),
    ("banking77", "card_payment_not_recognised", "complaint"): (16, 4),
    ("banking77", "cash_withdrawal_not_recognised", "complaint"): (14, 4),
}
MAX_CROSS_OVERLAP = 0.7  # the acceptance check


def read_handwritten(split, source="hand-written"):
    rows = []
    folder = REPO / "data" / "triage" / "handwritten" / split
    for label in LABELS:
        path = folder / f"{label}.txt"
        if split in ("train4", "train5") and not path.exists():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if "\t" in text:
                raise SystemExit(f"{path}:{n}: tab inside an utterance")
            rows.append({"label": label, "text": text, "source": source,
                         "key": f"handwritten/{split}/{label}.txt#line={n}"})
    return rows


def expand_frames(split, rng):
    table = frames.TRAIN_FRAMES if split == "train" else frames.TEST_FRAMES
    slots = frames.TRAIN_SLOTS if split == "train" else frames.TEST_SLOTS
    rows = []
    for label in LABELS:
        for f_no, frame in enumerate(table[label]):
            made = set()
            for _ in range(FRAME_EXPANSIONS[split] * 4):  # tries; duplicates are skipped
                if len(made) == FRAME_EXPANSIONS[split]:
                    break
                text = frame.format(**{k: rng.choice(v) for k, v in slots.items()})
                if text not in made:
                    made.add(text)
                    rows.append({"label": label, "text": text, "source": "slot-filled frame",
                                 "key": f"frames.py:{split}:{label}[{f_no}]"})
    return rows


def asr_some(row):
    """Half of the public rows (fixed by their key) are written as a recogniser would print them."""
    if stable_fraction("asr:" + row["key"]) < 0.5:
        row = dict(row, text=asr_style(row["text"]))
    return row


def pick(candidates, n, rng, avoid, taken):
    """Up to n candidates, one per near-duplicate cluster, none a near duplicate of a line of the other
    file (avoid) or of a public row already taken for this file (taken, which grows)."""
    clusters = public_data.cluster(candidates)
    clusters.sort(key=lambda g: g[0]["key"])
    rng.shuffle(clusters)
    chosen = []
    for group in clusters:
        if len(chosen) == n:
            break
        row = asr_some(rng.choice(group))
        if avoid.has_near_duplicate(row["text"]) or taken.has_near_duplicate(row["text"]):
            continue
        taken.add(row["text"])
        chosen.append(row)
    return chosen


def split_by_cluster(candidates):
    """SMS spam and robocalls have no official split: whole near-duplicate clusters go to one side."""
    sides = {"train": [], "test": []}
    for group in public_data.cluster(candidates):
        anchor = min(c["key"] for c in group)
        side = "test" if stable_fraction("split:" + anchor) < TEST_CLUSTER_SHARE else "train"
        sides[side].extend(group)
    return sides


def public_rows(split, shared, rng, avoid, sms_sides, robo_sides):
    rows = [asr_some(r) for r in public_data.disaster(shared, split)]
    rows = [r for r in rows if not avoid.has_near_duplicate(r["text"])]
    taken = NearestIndex(r["text"] for r in rows)
    rows += pick(sms_sides[split], SMS_SPAM[split], rng, avoid, taken)
    rows += pick(robo_sides[split], ROBOCALLS[split], rng, avoid, taken)
    groups = public_data.intents(shared, split)
    for gkey, (n_train, n_test) in INTENT_QUOTAS.items():
        n = n_train if split == "train" else n_test
        got = pick(groups.get(gkey, []), n, rng, avoid, taken)
        if len(got) < n:
            print(f"note: {gkey}: {len(got)} of {n} rows usable for {split}", file=sys.stderr)
        rows += got
    return rows


def dedupe(rows):
    seen, out = set(), []
    for r in rows:
        k = (asr_style(r["text"]))
        if k and k not in seen:
            seen.add(k)
            out.append(r)
    return out


def write(rows, out_dir, name, rng, shuffle=True):
    if shuffle:
        rows = sorted(rows, key=lambda r: (r["label"], r["text"]))
        rng.shuffle(rows)
    with open(out_dir / f"{name}.tsv", "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(f"{r['label']}\t{r['text']}\n")
    return rows


def write_provenance(files, out_dir):
    with open(out_dir / "provenance.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("file\tline\tlabel\tsource\torigin\n")
        for name, rows in files:
            for n, r in enumerate(rows, 1):
                f.write(f"{name}.tsv\t{n}\t{r['label']}\t{r['source']}\t{r['key']}\n")


def report(name, rows):
    total = len(rows)
    by_label = Counter(r["label"] for r in rows)
    sources = sorted({r["source"] for r in rows})
    print(f"\n{name}.tsv: {total} lines")
    print("| source | " + " | ".join(LABELS) + " | total |")
    print("| --- |" + " ---: |" * (len(LABELS) + 1))
    for s in sources:
        c = Counter(r["label"] for r in rows if r["source"] == s)
        print(f"| {s} | " + " | ".join(str(c[l]) for l in LABELS) + f" | {sum(c.values())} |")
    print("| **total** | " + " | ".join(f"{by_label[l]} ({100 * by_label[l] / total:.1f}%)" for l in LABELS)
          + f" | {total} |")
    public = sum(1 for r in rows if r["source"] not in ("hand-written", "hand-written, round 2",
                                                        "hand-written, round 3", "hand-written, round 4",
                                                        "hand-written, round 5",
                                                        "slot-filled frame"))
    framed = sum(1 for r in rows if r["source"] == "slot-filled frame")
    print(f"public share {100 * public / total:.1f}%  slot-filled share {100 * framed / total:.1f}%")


def later_round(split, source, seed, train, test):
    """A later round of training lines (handwritten/<split>/), shuffled by its own generator so that
    adding some changes neither the order of the earlier train lines nor anything in test. A near
    duplicate of a test line stops the build: rewrite the line rather than let it leak."""
    known = {asr_style(r["text"]) for r in train}
    rows = [r for r in dedupe(read_handwritten(split, source))
            if asr_style(r["text"]) not in known]
    test_index = NearestIndex(r["text"] for r in test)
    leaks = [r for r in rows if test_index.has_near_duplicate(r["text"])]
    for r in leaks:
        print(f"FAIL: {r['key']} is a near duplicate of a test line: {r['text']}", file=sys.stderr)
    if leaks:
        raise SystemExit(1)
    rows.sort(key=lambda r: (r["label"], r["text"]))
    random.Random(seed).shuffle(rows)
    return rows


def round_two(train, test):
    """Round-2 training lines (handwritten/train2/), after the other train lines."""
    return later_round("train2", "hand-written, round 2", SEED + 2, train, test)


def round_three(train, test):
    """Round-3 training lines (handwritten/train3/), after the round-2 lines; train includes those."""
    return later_round("train3", "hand-written, round 3", SEED + 3, train, test)


def round_four(train, test):
    """Round-4 training lines (handwritten/train4/), after round 3; train includes the earlier rounds.
    A label with no file there is skipped (round 4 may be emergency lines only)."""
    return later_round("train4", "hand-written, round 4", SEED + 4, train, test)


def round_five(train, test):
    """Round-5 training lines (handwritten/train5/), appended last; train includes the earlier rounds."""
    return later_round("train5", "hand-written, round 5", SEED + 5, train, test)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default="/work/shared/data", help="folder holding the public datasets")
    ap.add_argument("--without-round3", dest="round3", action="store_false",
                    help="leave out handwritten/train3/ (ablation; the committed train.tsv has it)")
    ap.add_argument("--without-round4", dest="round4", action="store_false",
                    help="leave out handwritten/train4/ (ablation; the committed train.tsv has it)")
    ap.add_argument("--without-round5", dest="round5", action="store_false",
                    help="leave out handwritten/train5/ (ablation; the committed train.tsv has it)")
    ap.add_argument("--out", default=str(REPO / "data" / "triage"))
    args = ap.parse_args()
    out_dir = Path(args.out)
    rng = random.Random(SEED)

    sms_sides = split_by_cluster(public_data.sms_spam(args.shared))
    robo_sides = split_by_cluster(public_data.robocalls(args.shared))

    # Test's own lines first, so train's public rows can keep clear of them.
    test_own = dedupe(read_handwritten("test") + expand_frames("test", rng))
    train_own = dedupe(read_handwritten("train") + expand_frames("train", rng))
    train = dedupe(train_own + public_rows("train", args.shared, rng, NearestIndex([r["text"] for r in test_own]),
                                           sms_sides, robo_sides))
    test = dedupe(test_own + public_rows("test", args.shared, rng, NearestIndex([r["text"] for r in train]),
                                         sms_sides, robo_sides))

    train = write(train, out_dir, "train", rng)
    test = write(test, out_dir, "test", rng)
    train = train + round_two(train, test)
    if args.round3:
        train = train + round_three(train, test)
    if args.round4:
        train = train + round_four(train, test)
    if args.round5:
        train = train + round_five(train, test)
    write(train, out_dir, "train", random.Random(0), shuffle=False)
    write_provenance([("train", train), ("test", test)], out_dir)
    report("train", train)
    report("test", test)

    found = overlaps([r["text"] for r in train], [r["text"] for r in test])
    print(f"\nmax Jaccard word overlap test->train: {found[0][0]:.3f}")
    for s, t, n in found[:5]:
        print(f"  {s:.3f}  test: {t}\n         train: {n}")
    bad = [f for f in found if f[0] > MAX_CROSS_OVERLAP]
    if bad:
        print(f"FAIL: {len(bad)} test lines overlap train by more than {MAX_CROSS_OVERLAP}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
