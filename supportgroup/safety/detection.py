"""Signals in chat text: crisis and danger phrases, and identifying details (phone, e-mail, address, profile).

Pure Python, no database: the send path calls it for every participant's message, so it must stay cheap.

Crisis phrases are data a deployment edits: `safety/phrases/<lang>.txt` (or the folder in the setting
`PHRASES_DIR`), one phrase per line under `# category` headers. They are read once per process and compiled
into one regular expression per category. Matching works on a normalised form of text and phrases alike:
lower case, accents removed (NFKD without combining marks), apostrophes dropped ("I'm" = "Im"), every other
non-letter/digit a space, whitespace collapsed; a phrase matches whole words only ("mes" never inside
"kamers"). Letters repeated three or more times ("neeee", "hellllp") are also tried collapsed to one and two.

What we decided not to match (documented in tests/test_detection.py): single ordinary words ("mes", "knife",
"kill", "dood") because survivors and perpetrators talk about the past, and a flood of alerts hides the real
ones. Negations ("I don't want to kill myself") do alert: a peer expert would rather check once too often.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path

from flask import current_app, has_app_context

CATEGORIES = ("suicide", "self_harm", "danger", "weapons", "child", "found")
LANGUAGES = ("nl", "en")
DEFAULT_DIR = Path(__file__).resolve().parent / "phrases"

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"(\w)\1{2,}")


def normalise(text: str) -> str:
    """Lower case, no accents, no apostrophes, only letters/digits separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _APOSTROPHES.sub("", stripped)
    return _NON_WORD.sub(" ", stripped).strip()


def _variants(normalised: str) -> set[str]:
    if not _REPEATS.search(normalised):
        return {normalised}
    return {normalised, _REPEATS.sub(r"\1", normalised), _REPEATS.sub(r"\1\1", normalised)}


def parse_phrases(lines) -> dict[str, list[str]]:
    """`# category` headers and phrases; unknown categories are kept (a deployment may add its own)."""
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
        if category is None:
            continue
        phrase = normalise(line)
        if phrase:
            phrases.setdefault(category, []).append(phrase)
    return phrases


class PhraseMatcher:
    """Compiled phrase lists: `categories(text)` gives the categories whose phrases occur in the text."""

    def __init__(self, phrases: dict[str, list[str]]):
        self.patterns: dict[str, re.Pattern] = {}
        for category, items in phrases.items():
            unique = sorted(set(items), key=len, reverse=True)
            if unique:
                body = "|".join(re.escape(p) for p in unique)
                self.patterns[category] = re.compile(rf"(?<!\w)(?:{body})(?!\w)")

    def categories(self, text: str) -> list[str]:
        variants = _variants(normalise(text))
        found = [c for c, pattern in self.patterns.items() if any(pattern.search(v) for v in variants)]
        order = {c: i for i, c in enumerate(CATEGORIES)}
        return sorted(found, key=lambda c: (order.get(c, len(order)), c))


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
