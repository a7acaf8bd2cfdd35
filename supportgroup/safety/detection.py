"""Signals in chat text: crisis and danger phrases, and identifying details (phone, e-mail, address, profile).

Pure Python, no database: the send path calls it for every participant's message, so it must stay cheap.

Crisis phrases are data a deployment edits: `safety/phrases/<lang>.txt` (or the folder in the setting
`PHRASES_DIR`), under `# category` headers. They are read once per process and compiled: fixed phrases into
one regular expression per category, word-order rules (lines starting with `~`, verbs with `@`, see
`wordorder.py`) into `Rule`s indexed by word. Matching works on a normalised form of text and phrases alike:
lower case, accents removed (NFKD without combining marks), apostrophes dropped ("I'm" = "Im"), every other
non-letter/digit a space, whitespace collapsed; a phrase matches whole words only ("mes" never inside
"kamers"). Letters repeated three or more times ("neeee", "hellllp") are also tried collapsed to one and two.
Fixed phrases match within a piece of a sentence (between commas, colons, quotes, dashes), rules within one
clause (`wordorder.py`).

Three sections are no category. `# past` lists words that place a sentence in the past ("vroeger", "jaren
geleden", "I used to"); from such a word on, the sentence raises nothing until a `# now` word ("nu",
"inmiddels", "now") starts a piece: the groups talk about what happened to them, and that is their work, not
an emergency ("Vroeger zei hij dat hij me zou vermoorden"; "Vroeger zag ik het niet meer zitten, nu gaat het
beter"), while "Vroeger sloeg hij me, nu weet hij waar ik woon" still alerts. A `# present` word anywhere in
the sentence ("weer", "nog steeds", "vannacht", "again", "tonight") brings all of it to now.

What we decided not to match (documented in tests/test_detection.py and tests/test_detection_word_order.py):
single ordinary words ("mes", "knife", "kill", "dood") because survivors and perpetrators talk about the past,
and a flood of alerts hides the real ones. Negations ("I don't want to kill myself") do alert: a peer expert
would rather check once too often; only where "niet" turns a danger into safety ("hij weet niet waar ik
woon", "ik ben niet meer in gevaar") does a rule exclude it. `PhraseMatcher.explain` says for every signal
which category, phrase or rule and words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_app_context

from .wordorder import SUBJECTS, Rule, Verb, clauses, parse_rule, parse_verb, pieces

CATEGORIES = ("suicide", "self_harm", "danger", "weapons", "child", "found")
LANGUAGES = ("nl", "en")
DEFAULT_DIR = Path(__file__).resolve().parent / "phrases"
VERBS, PAST, PRESENT, NOW = "verbs", "past", "present", "now"  # sections of a phrase file that are no category
NOT_CATEGORIES = (VERBS, PAST, PRESENT, NOW)

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SENTENCES = re.compile(r"[.!?;\n…]+")


def _fold(text: str) -> str:
    """Lower case, no accents, no apostrophes; punctuation kept (it still marks sentences and clauses)."""
    folded = text.casefold()
    if not folded.isascii():  # most chat lines are ASCII: no decomposition needed
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _APOSTROPHES.sub("", folded)


def _tidy(folded: str) -> str:
    return _NON_WORD.sub(" ", folded).strip()


def normalise(text: str) -> str:
    """Lower case, no accents, no apostrophes, only letters/digits separated by single spaces."""
    return _tidy(_fold(text))


def _variants(normalised: str) -> set[str]:
    if not _REPEATS.search(normalised):
        return {normalised}
    return {normalised, _REPEATS.sub(r"\1", normalised), _REPEATS.sub(r"\1\1", normalised)}


def parse_phrases(lines) -> dict[str, list[str]]:
    """`# category` headers and phrases; unknown categories are kept (a deployment may add its own).

    Fixed phrases are kept normalised; rule lines (`~ ...`) as written; verb lines (`@name = ...`) under
    `verbs`, whatever section they are in."""
    phrases: dict[str, list[str]] = {}
    category = None
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            name = line[1:].strip()
            if re.fullmatch(r"[a-z_]{2,30}", name):
                category = name
            continue
        if line.startswith("@"):
            phrases.setdefault(VERBS, []).append(line)
            continue
        if category is None:
            continue
        phrase = line if line.startswith("~") else normalise(line)
        if phrase:
            phrases.setdefault(category, []).append(phrase)
    return phrases


@dataclass(frozen=True)
class Signal:
    """One reason for an alert: the category, the phrase or rule as written, the words of the message."""

    category: str
    rule: str
    words: tuple[str, ...]


def _alternation(items: Iterable[str]) -> re.Pattern | None:
    unique = sorted(set(items), key=len, reverse=True)
    if not unique:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(p) for p in unique)})(?!\w)")


class PhraseMatcher:
    """Compiled phrase lists: `categories(text)` gives the categories whose phrases or rules occur in the text."""

    def __init__(self, phrases: dict[str, list[str]]):
        verbs: dict[str, Verb] = {}
        for line in phrases.get(VERBS, []):
            verb = parse_verb(line, normalise)
            verbs[verb.name] = verb
        self.past = _alternation(phrases.get(PAST, []))
        self.present = _alternation(phrases.get(PRESENT, []))
        self.now = _alternation(phrases.get(NOW, []))
        self.patterns: dict[str, re.Pattern] = {}
        self.any_phrase = _alternation(
            p for c, items in phrases.items() if c not in NOT_CATEGORIES for p in items if not p.startswith("~")
        )
        self.rules: list[Rule] = []
        self._index: dict[str, list[Rule]] = {}
        for category, items in phrases.items():
            if category in NOT_CATEGORIES:
                continue
            pattern = _alternation(p for p in items if not p.startswith("~"))
            if pattern is not None:
                self.patterns[category] = pattern
            for line in items:
                if line.startswith("~"):
                    rule = parse_rule(category, line, verbs, normalise)
                    self.rules.append(rule)
                    for word in min(rule.anchors, key=_commonness):  # a clause without one cannot match
                        self._index.setdefault(word, []).append(rule)

    def _not_in_the_past(self, parts: list[str]) -> list[str]:
        """The pieces of a sentence that are not about the past: from a past word on, until a "now" word,
        unless a present word anywhere in the sentence brings all of it to now."""
        parts = [part for part in parts if part]
        whole = " . ".join(parts)
        if self.past is None or not self.past.search(whole):
            return parts
        if self.present is not None and self.present.search(whole):
            return parts
        kept, past = [], False
        for part in parts:
            if self.past.search(part):
                past = True
            elif self.now is not None and self.now.search(part):
                past = False
            if not past:
                kept.append(part)
        return kept

    def explain(self, text: str) -> list[Signal]:
        """Every signal in the text, one per category (the first found), in the order of CATEGORIES."""
        live: list[str] = []  # normalised pieces of the text that are not about the past
        for sentence in _SENTENCES.split(_fold(text)):
            live.extend(self._not_in_the_past([_tidy(piece) for piece in pieces(sentence)]))
        if not live:
            return []
        found: dict[str, Signal] = {}
        # Fixed phrases: one search per category over the pieces joined by " . ", which no phrase crosses.
        for variant in _variants(" . ".join(live)):
            if self.any_phrase is None or not self.any_phrase.search(variant):
                continue  # most messages: one search instead of one per category
            for category, pattern in self.patterns.items():
                if category not in found and (hit := pattern.search(variant)):
                    found[category] = Signal(category, hit.group(0), tuple(hit.group(0).split()))
        for piece in live:
            for variant in _variants(piece):
                for clause in clauses(tuple(variant.split())):
                    present = set(clause)
                    for rule in self._candidates(clause):
                        if rule.category not in found and (matched := rule.match(clause, present)):
                            found[rule.category] = Signal(rule.category, rule.source, matched)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        return sorted(found.values(), key=lambda s: (order.get(s.category, len(order)), s.category))

    def _candidates(self, words: tuple[str, ...]) -> list[Rule]:
        seen: dict[int, Rule] = {}
        for word in words:
            for rule in self._index.get(word, ()):
                seen.setdefault(id(rule), rule)
        return list(seen.values())

    def categories(self, text: str) -> list[str]:
        return [signal.category for signal in self.explain(text)]


# Words in most chat lines: a rule is indexed under a slot without them where it has one.
_COMMON = SUBJECTS | frozenset("me mij ons us niet not dont wil want ben is am heb heeft have has een a to".split())


def _commonness(anchors: frozenset[str]) -> tuple[int, int]:
    return (len(anchors & _COMMON), len(anchors))


def load_matcher(directory: Path | str) -> PhraseMatcher:
    merged: dict[str, list[str]] = {}
    for path in sorted(Path(directory).glob("*.txt")):
        with open(path, encoding="utf-8") as handle:
            for category, items in parse_phrases(handle).items():
                merged.setdefault(category, []).extend(items)
    return PhraseMatcher(merged)


_cache: dict[str, PhraseMatcher] = {}
_lock = threading.Lock()


def matcher() -> PhraseMatcher:
    """The phrase matcher of this process (one per phrase folder), built on first use."""
    directory = str(current_app.config.get("PHRASES_DIR") or DEFAULT_DIR) if has_app_context() else str(DEFAULT_DIR)
    found = _cache.get(directory)
    if found is None:
        with _lock:
            found = _cache.get(directory)
            if found is None:
                found = _cache[directory] = load_matcher(directory)
    return found


def crisis_categories(text: str) -> list[str]:
    """Categories of crisis or danger signals in a message (empty for most messages)."""
    return matcher().categories(text)


# --- identifying details ---------------------------------------------------------------------------

# Dutch national numbers: 0 and nine more digits, single separators allowed (06-12345678, 020 123 45 67).
_NATIONAL = re.compile(r"(?<![\w+])0\d(?: ?[.\-/]? ?\d){8}(?!\d)")
# International: +31 6 12345678, 0031612345678, +44 20 7946 0958, +31 (0)6 12345678.
_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00) ?[1-9](?:[ .\-]?(?:\(0\) ?)?\d){7,13}(?!\d)")
_DATE = re.compile(r"^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?!\w)", re.IGNORECASE)
# Dutch postcode with house number: 1234 AB 12, 1234AB 12a, 1234 ab 12-3.
_POSTCODE = re.compile(
    r"(?<!\w)([1-9]\d{3})( ?)([a-z]{2}) *,? *(\d{1,5})(?: ?[a-z]\b|-\d{1,4})?(?![\w])", re.IGNORECASE
)
# Two-letter words that follow a number in ordinary sentences ("2024 en 3 kinderen"); accepted as postcode
# letters only when written in capitals or attached to the digits.
_COMMON_PAIRS = {
    "en",
    "in",
    "op",
    "om",
    "of",
    "te",
    "ik",
    "je",
    "we",
    "ze",
    "is",
    "de",
    "na",
    "al",
    "nu",
    "zo",
    "ja",
    "ok",
    "to",
    "at",
    "on",
    "or",
    "an",
    "as",
    "am",
    "by",
    "me",
    "my",
    "he",
    "it",
    "if",
    "so",
    "up",
    "no",
    "do",
    "go",
    "us",
    "uu",
    "mg",
    "km",
    "kg",
    "cm",
    "mm",
    "ml",
    "pm",
}
_SOCIAL = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.|m\.|mobile\.|[a-z]{2}\.)?(?:"
    r"(?:facebook|fb|instagram|twitter|x)\.com/(?!\s)[\w.@%-]{2,}"
    r"|instagr\.am/[\w.]{2,}"
    r"|tiktok\.com/@[\w.]{2,}"
    r"|linkedin\.com/in/[\w%-]{2,}"
    r"|snapchat\.com/add/[\w.-]{2,})"
    r"|(?<!\w)(?:insta(?:gram)?|tiktok|snap(?:chat)?|twitter|x|facebook|fb|ig)\s*:?\s*@[\w.]{2,}",
    re.IGNORECASE,
)


def _has_phone(text: str) -> bool:
    for match in _NATIONAL.finditer(text):
        if not _DATE.match(match.group(0)):
            return True
    return _INTERNATIONAL.search(text) is not None


def _has_postcode(text: str) -> bool:
    for match in _POSTCODE.finditer(text):
        digits, space, letters = match.group(1), match.group(2), match.group(3)
        if letters.lower() in ("sa", "sd", "ss"):  # never used in Dutch postcodes
            continue
        if space and letters.lower() in _COMMON_PAIRS and not letters.isupper():
            continue
        if digits and letters:
            return True
    return False


def identifying_details(text: str) -> list[str]:
    """Kinds of identifying details in the text: "phone", "email", "postcode", "social" (in that order)."""
    kinds = []
    if _has_phone(text):
        kinds.append("phone")
    if _EMAIL.search(text):
        kinds.append("email")
    if _has_postcode(text):
        kinds.append("postcode")
    if _SOCIAL.search(text):
        kinds.append("social")
    return kinds
