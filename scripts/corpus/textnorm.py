"""Text helpers shared by the triage corpus scripts: cleaning, ASR-style lowering, word sets."""

import hashlib
import html
import re

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                         "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\ufffd": " "})
# Phone-number shapes (555-123-4567, 0844 861 85 85, 09061701461): digits with separators, masked
# when they hold 7+ digits. Public rows can carry real numbers; we keep none of them.
_PHONE = re.compile(r"\+?\(?\d[\d() .-]{5,}\d")
_WORD = re.compile(r"[a-z0-9]+")


def clean(text):
    """Light cleaning: entities, quotes, phone numbers masked, tabs/newlines and runs of spaces collapsed."""
    text = html.unescape(text).translate(_QUOTES)
    text = _PHONE.sub(_mask_phone, text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > 1 and text[0] == '"' and text.count('"') % 2 == 1:
        text = text[1:].lstrip()  # an unmatched opening quote left from the source's CSV
    return text


def _mask_phone(match):
    """A run of 7 or more digits, with or without spaces, dots or dashes between them."""
    s = match.group(0)
    return "xxxx" if sum(ch.isdigit() for ch in s) >= 7 else s


def asr_style(text):
    """What a speech recogniser would print: lower case, no punctuation (apostrophes kept)."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    text = re.sub(r"(^| )'+|'+( |$)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def words(text):
    """The word set used for near-duplicate checks (lower case, letters and digits)."""
    return frozenset(_WORD.findall(text.lower()))


def jaccard(a, b):
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicate(a, b, jac=0.45, contain=0.6, min_words=8):
    """True if word sets a and b overlap a lot, or the smaller (of min_words or more) sits mostly
    inside the larger: a trimmed robocall inside a longer cut of the same campaign, say."""
    inter = len(a & b)
    if not inter:
        return False
    if inter / len(a | b) >= jac:
        return True
    small = min(len(a), len(b))
    return small >= min_words and inter / small >= contain


def stable_fraction(key):
    """A number in [0, 1) fixed by the key, independent of PYTHONHASHSEED."""
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    return int(digest[:12], 16) / float(1 << 48)


class NearestIndex:
    """Finds the highest Jaccard similarity between a query and a fixed set of lines.

    An inverted index on words limits the comparison to lines that share a word.
    """

    def __init__(self, lines=()):
        self.sets, self.lines, self.index = [], [], {}
        for line in lines:
            self.add(line)

    def add(self, line):
        ws = words(line)
        for w in ws:
            self.index.setdefault(w, []).append(len(self.sets))
        self.sets.append(ws)
        self.lines.append(line)

    def has_near_duplicate(self, text):
        """True if some indexed line is a near duplicate of text (see near_duplicate)."""
        q = words(text)
        seen = set()
        for w in q:
            for i in self.index.get(w, ()):
                if i not in seen:
                    seen.add(i)
                    if near_duplicate(q, self.sets[i]):
                        return True
        return False

    def nearest(self, text):
        """(similarity, line) of the closest indexed line; (0.0, None) if none shares a word."""
        q = words(text)
        seen = set()
        best = (0.0, None)
        for w in q:
            for i in self.index.get(w, ()):
                if i in seen:
                    continue
                seen.add(i)
                s = jaccard(q, self.sets[i])
                if s > best[0]:
                    best = (s, self.lines[i])
        return best
