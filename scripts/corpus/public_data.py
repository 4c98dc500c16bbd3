"""Loaders for the public datasets in /work/shared/data, each returning candidate rows per split.

A candidate is a dict: {"label", "text", "source", "key"}; "key" names the original row so a
choice can be traced back (dataset file and id or line). Nothing here is random: sampling and
the train/test split of sources without an official split happen in build_triage.py.
"""

import csv
import json
import re
from pathlib import Path

from textnorm import clean, jaccard, stable_fraction, words

# --- disaster-response-messages (Munro 2012): real requests for help -> emergency -----------------
# Rows read one by one and chosen because they read like someone asking for rescue or protection
# now (trapped, injured, shooting, thieves, fire, "come to <address>"), not for food, tents or
# information. Train draws only from the validation file, test only from the test file.
DISASTER_TRAIN_IDS = [
    128, 1008, 1058, 1108, 1588, 1718, 1798, 2188, 2318, 2348, 2368, 2628, 2818, 2878, 2978,
    3688, 3718, 3728, 4358, 4398, 4528, 4878, 5108, 5258, 5678, 7098, 7908, 7988, 9648, 9888,
    10688, 11118,
]
DISASTER_TEST_IDS = [
    39, 79, 799, 1149, 2049, 2069, 2099, 2589, 2739, 2749, 3029, 3039, 3739, 3869,
    4509, 4719, 5119, 5509, 6209, 6569, 6929, 8979, 10659, 10849,
]


def disaster(root, split):
    folder = Path(root) / "disaster-response-messages"
    fname, ids = {
        "train": ("disaster_response_validation.csv", DISASTER_TRAIN_IDS),
        "test": ("disaster_response_test.csv", DISASTER_TEST_IDS),
    }[split]
    wanted = set(ids)
    out = []
    with open(folder / fname, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if int(row["id"]) in wanted and row["genre"] == "direct":
                text = re.sub(r"\(\s*msg lost\s*\)|\.\.\s*$", "", row["message"], flags=re.I)
                out.append({"label": "emergency", "text": clean(text), "source": "disaster-response-messages",
                            "key": f"{fname}#id={row['id']}"})
    missing = wanted - {int(c["key"].split("=")[1]) for c in out}
    if missing:
        raise SystemExit(f"disaster-response-messages: ids not found in {fname}: {sorted(missing)}")
    return out


# --- SMS Spam Collection (Almeida et al. 2011): spam rows -> spam ----------------------------------
def sms_spam(root):
    path = Path(root) / "sms-spam-collection" / "SMSSpamCollection"
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            label, _, text = line.rstrip("\n").partition("\t")
            if label == "spam":
                out.append({"label": "spam", "text": clean(text), "source": "sms-spam-collection",
                            "key": f"SMSSpamCollection#line={n}"})
    return out


# --- robocall transcripts (Prasad & Reaves 2023): first sentences of each call -> spam -------------
_SENT = re.compile(r"(?<=[.!?])\s+")


def _first_sentences(text, key, max_words=45):
    """The first 1-3 sentences (how many is fixed by the row's key), stopping before max_words."""
    want = 1 + int(stable_fraction("sentences:" + key) * 3)
    sentences = [s for s in _SENT.split(text.strip()) if s]
    kept = []
    for s in sentences[:want]:
        if kept and len(" ".join(kept + [s]).split()) > max_words:
            break
        kept.append(s)
    return " ".join(kept)


def robocalls(root):
    path = Path(root) / "robocall-transcripts" / "metadata-dev.csv"
    out = []
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["language"] != "en" or not row["transcript"].strip():
                continue
            key = f"metadata-dev.csv#{row['file_name']}"
            text = clean(_first_sentences(row["transcript"], key))
            if len(text.split()) >= 5:
                out.append({"label": "spam", "text": text, "source": "robocall-transcripts", "key": key})
    return out


# --- CLINC150 (Larson et al. 2019) and BANKING77 (Casanueva et al. 2020) -------------------------
# inquiry: questions a caller could put to a police line (traffic on a route, directions, visas
# for travel, how to report a lost card, identity verification).
# complaint: after-the-fact reports (card or phone lost/stolen, fraud, payment not recognised,
# lost luggage), said as statements. Rows about the bank's app, top-ups or exchange are left out.
_QUESTION = re.compile(r"^(how|what|what's|where|who|whom|which|when|can you tell|could you tell|is there|do i|should i|"
                       r"am i|will i|would i|does|do you|walk me through|please tell me how|tell me how|"
                       r"i need to know how|explain)\b")
_BANK_ONLY = re.compile(r"\b(app|apps|top ?-?up|topup|topping|virtual|disposable|exchange|refund|currency|"
                        r"apple pay|google pay|contactless|\u00a3|euro|euros|gbp|usd)\b", re.I)
_INCIDENT = re.compile(r"\b(stolen|stole|steal\w*|lost|hack\w*|fraud\w*|unauthori[sz]ed|compromised|someone|somebody|"
                       r"missing|misplaced|can't find|cannot find|unfamiliar|strange|suspicious|without my|"
                       r"(don't|do not|didn't|did not) (recogni[sz]e|remember|recall)|"
                       r"(didn't|did not|never) (make|made|do|did|buy|bought|purchase|purchased|withdraw|authori[sz]e)|"
                       r"wasn't me|not me|never seen)\b", re.I)
# Rows about using the bank's service rather than about a theft or fraud.
_NOT_A_REPORT = re.compile(r"\b(fee|fees|deposit|platform|device|system|access the|log ?in|log onto|new one|"
                           r"replace|replacement|send me a new|order a new)\b", re.I)
# Directions only where a caller might ask the police: the nearest hospital, station, bus and the like.
_DIRECTIONS_OK = re.compile(r"\b(hospital|station|bus|train|subway|airport|police|pharmacy)\b", re.I)

CLINC_INQUIRY = {"traffic": 20, "directions": 10, "international_visa": 8}
CLINC_HOWTO_INQUIRY = ("report_lost_card", "report_fraud")  # the question-form rows only
CLINC_COMPLAINT = ("report_lost_card", "report_fraud", "lost_luggage")
BANKING_INQUIRY = ("verify_my_identity", "why_verify_identity", "unable_to_verify_identity")
BANKING_COMPLAINT = ("lost_or_stolen_phone", "lost_or_stolen_card", "compromised_card",
                     "card_payment_not_recognised", "cash_withdrawal_not_recognised")


def _intent_rows(root, split):
    """(source, key, text, intent) from CLINC150 and BANKING77 for the given split."""
    root = Path(root)
    data = json.load(open(root / "clinc150" / "data_full.json", encoding="utf-8"))
    part = {"train": "train", "test": "test"}[split]
    for i, (text, intent) in enumerate(data[part]):
        yield "clinc150", f"data_full.json#{part}[{i}]", text, intent
    fname = {"train": "train.csv", "test": "test.csv"}[split]
    with open(root / "banking77" / fname, encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            yield "banking77", f"{fname}#row={i}", row["text"], row["category"]


def intents(root, split):
    """Candidates from CLINC150/BANKING77, grouped as {(source, intent, label): [candidate, ...]}."""
    groups = {}
    for source, key, raw, intent in _intent_rows(root, split):
        text = clean(raw)
        low = text.lower()
        label = None
        if source == "clinc150":
            if intent == "directions" and (not _DIRECTIONS_OK.search(low) or low.startswith("take me")):
                continue
            if intent in CLINC_INQUIRY:
                label = "inquiry"
            elif intent in CLINC_HOWTO_INQUIRY and _QUESTION.match(low):
                label = "inquiry"
            elif (intent in CLINC_COMPLAINT and not _QUESTION.match(low) and _INCIDENT.search(low)
                  and not _NOT_A_REPORT.search(low)):
                label = "complaint"
        else:
            if _BANK_ONLY.search(low) or len(low.split()) > 30:
                continue
            if intent in BANKING_INQUIRY:
                label = "inquiry"
            elif (intent in BANKING_COMPLAINT and _INCIDENT.search(low) and not _NOT_A_REPORT.search(low)
                  and not re.match(r"^(how|can i|where|what are the steps)\b", low)):
                label = "complaint"
        if label:
            c = {"label": label, "text": text, "source": source, "key": key}
            groups.setdefault((source, intent, label), []).append(c)
    return groups


def cluster(candidates, threshold=0.5):
    """Groups near-duplicate candidates (Jaccard word overlap >= threshold) with union-find.

    Jaccard only: a containment test here would chain whole campaigns together through their
    shared "press 1" sentences. Containment is checked when rows are picked (build_triage.pick)."""
    sets = [words(c["text"]) for c in candidates]
    parent = list(range(len(candidates)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    index = {}
    for i, ws in enumerate(sets):
        seen = set()
        for w in ws:
            for j in index.get(w, ()):
                if j not in seen:
                    seen.add(j)
                    if jaccard(ws, sets[j]) >= threshold:
                        parent[find(i)] = find(j)
            index.setdefault(w, []).append(i)
    groups = {}
    for i, c in enumerate(candidates):
        groups.setdefault(find(i), []).append(c)
    return list(groups.values())
