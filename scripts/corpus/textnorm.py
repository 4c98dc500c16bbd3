"""Text helpers shared by the triage corpus scripts: cleaning, ASR-style lowering, word sets."""

import hashlib
import html
import re

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                         "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\ufffd": " "})
# Phone-number shapes (555-123-4567, 833.304.1447) and any run of 7+ digits. Public rows can carry
# real numbers; we keep none of them.
_PHONE = re.compile(r"\+?\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}|\d{7,}")
_WORD = re.compile(r"[a-z0-9]+")


def clean(text):
    """Light cleaning: entities, quotes, phone numbers masked, tabs/newlines and runs of spaces collapsed."""
    text = html.unescape(text).translate(_QUOTES)
    text = _PHONE.sub("xxxx", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip()


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


def stable_fraction(key):
    """A number in [0, 1) fixed by the key, independent of PYTHONHASHSEED."""
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    return int(digest[:12], 16) / float(1 << 48)


class NearestIndex:
    """Finds the highest Jaccard similarity between a query and a fixed set of lines.

    An inverted index on words limits the comparison to lines that share a word.
    """

    def __init__(self, lines):
        self.sets = [words(line) for line in lines]
        self.lines = list(lines)
        self.index = {}
        for i, ws in enumerate(self.sets):
            for w in ws:
                self.index.setdefault(w, []).append(i)

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
