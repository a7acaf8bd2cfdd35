"""Word-order rules for the crisis phrase lists: words that belong together in one clause, in any order.

A fixed phrase ("hij gaat me vermoorden") misses Dutch word order: the verb moves to the end of a subordinate
clause ("... dat hij me gaat vermoorden"), a separable verb splits in a main clause ("ik doe mezelf iets aan")
and joins in a subordinate one ("... dat ik mezelf iets aandoe"), a modal puts the infinitive last ("... om
mezelf iets aan te doen"). A rule names the words that must occur together instead of their order:

    @aandoen = aan | doen doe doet deed deden gedaan      a verb: particle | forms (the first is the infinitive)
    ~ mezelf/mijzelf + iets/wat + @aandoen ! grapje       a rule: slots joined by "+", alternatives by "/";
                                                         after "!" words that must not be in the clause

A rule matches when every slot is found in one clause, each on its own words, all within `WINDOW` words.
A clause is a piece of a sentence between commas, colons or dashes, and a subordinating conjunction
(`SPLITTERS`: "dat", "omdat", "als", "maar", "that", "because", ...) followed by a subject-like word
(`SUBJECTS`) starts a new one; "en"/"and" do not, because they join nouns as often as clauses ("hij slaat
mij en de kinderen"), so "dat hij een mes heeft en me gaat vermoorden" stays one clause.

A verb with a particle is found joined ("aandoen", "aangedaan", "aandoe"), as a verb cluster that starts with
the particle ("aan te doen", "aan ga doen", "om zal brengen", "van kant maken"), or split: a form of the
verb with the particle last in the clause ("ik doe mezelf iets aan", "hij brengt me om"). The particle must
end the clause, so "hij brengt me om 8 uur naar school" is no "ombrengen".

Everything here is built once per process (`Rule`, `Verb`); matching a clause is set and list work only.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass

WINDOW = 10  # the words of one match lie within this many words of each other
# A verb cluster between the particle and the verb: "aan ga doen", "om zal brengen", "aan te doen".
AUXILIARIES = frozenset(
    "te ga gaat gaan zal zult zullen zou zouden wil wilt willen wou kan kun kunt kunnen moet moeten mag".split()
)
SPLITTERS = frozenset(
    "dat omdat als wanneer toen terwijl nadat voordat zodat hoewel maar want "
    "that because if when while after before although but".split()
)
SUBJECTS = frozenset(
    "ik jij je hij zij ze wij we u het er mijn zijn haar de die men "
    "i im ive id ill you youre he hes hed hell she shes shed shell we were they theyre it its my his her the".split()
)
_CLAUSE_BREAKS = re.compile(r"[,:;()\[\]\"“”–—]|\s-\s")

Words = tuple[str, ...]
Place = tuple[int, ...]  # positions of the words that fill one slot
Normalise = Callable[[str], str]


@dataclass(frozen=True)
class Verb:
    """A verb's forms; `particle` is empty for a verb that does not split."""

    name: str
    particle: Words
    forms: frozenset[str]
    joined: frozenset[str]  # particle and form written as one word: "aandoen", "aangedaan"

    def occurrences(self, clause: Words, ends: int) -> list[Place]:
        """Word positions of this verb in a clause of `ends` words: joined, as a cluster, or split."""
        found: list[Place] = []
        particle, size = self.particle, len(self.particle)
        for i, word in enumerate(clause):
            if word in self.joined or (not particle and word in self.forms):
                found.append((i,))
            if not particle or clause[i : i + size] != particle:
                continue
            after = i + size
            if after < ends and clause[after] in self.forms:  # "van kant maken"
                found.append((*range(i, after), after))
            elif after + 1 < ends and clause[after] in AUXILIARIES and clause[after + 1] in self.forms:
                found.append((*range(i, after + 1), after + 1))  # "aan te doen", "om zal brengen"
            if after == ends:  # the particle ends the clause: a form of the verb before it ("doe ... aan")
                found.extend((j, *range(i, after)) for j in range(max(0, i - WINDOW), i) if clause[j] in self.forms)
        return found


@dataclass(frozen=True)
class Rule:
    """Slots that must all occur in one clause; `source` is the line as written, to explain a match."""

    category: str
    source: str
    slots: tuple[tuple[Words | Verb, ...], ...]
    excluded: tuple[Words, ...]
    anchors: tuple[frozenset[str], ...]  # per slot: a clause without one of these words cannot fill it

    def match(self, clause: Words, present: frozenset[str] | set[str]) -> tuple[str, ...] | None:
        """The words of the clause that make this rule match, or None; `present` is the set of its words."""
        return self.search(clause, present)[0]

    def search(self, clause: Words, present: frozenset[str] | set[str]) -> tuple[tuple[str, ...] | None, int]:
        """`match`, and how many places the search looked at: its cost, which tests bound."""
        if any(present.isdisjoint(anchors) for anchors in self.anchors):
            return None, 0
        if any(_find(words, clause) for words in self.excluded):
            return None, 0
        slots: list[_Slot] = []
        for slot in self.slots:
            places = sorted((min(p), max(p), p) for alternative in slot for p in _places(alternative, clause))
            if not places:
                return None, 0
            slots.append(_Slot([first for first, _, _ in places], places))
        slots.sort(key=lambda slot: len(slot.places))  # the rarest slot first: the fewest windows to try
        search = _Search(slots)
        picked = search.pick(0, frozenset(), len(clause), -1)
        return (None if picked is None else tuple(clause[i] for i in sorted(picked))), search.steps


def _find(words: Words, clause: Words) -> list[Place]:
    size = len(words)
    return [tuple(range(i, i + size)) for i, w in enumerate(clause) if w == words[0] and clause[i : i + size] == words]


def _places(alternative: Words | Verb, clause: Words) -> list[Place]:
    if isinstance(alternative, Verb):
        return alternative.occurrences(clause, len(clause))
    return _find(alternative, clause)


@dataclass(frozen=True)
class _Slot:
    """A slot's places in one clause as (first word, last word, positions), sorted; `firsts` to bisect."""

    firsts: list[int]
    places: list[tuple[int, int, Place]]


class _Search:
    """One place per slot, no word used twice, all within WINDOW words: a depth-first search.

    It looks only at places inside the window around what it has picked (bisected out of each slot's sorted
    places), and goes deeper only while every later slot still has a place inside that window. So the first
    slot's places are the only thing that grows with the clause: below each lie only places within WINDOW
    words of it, and the cost is linear in the clause's length, without a step budget (a budget that ran out
    would have to choose between a missed alert and an alert flood an attacker can trigger). `steps` counts
    every place looked at (issue #14 review: the search used to loop over all places at every depth and
    only then drop those out of the window, which is cubic in the length: 0.6 s for one long message).
    """

    def __init__(self, slots: list[_Slot]):
        self.slots = slots
        self.steps = 0

    def pick(self, index: int, used: frozenset[int], low: int, high: int) -> frozenset[int] | None:
        if index == len(self.slots):
            return used
        later = self.slots[index + 1 :]
        for new_low, new_high, place in self._within(self.slots[index], low, high):
            if used.intersection(place) or not all(self._fits(slot, new_low, new_high) for slot in later):
                continue
            picked = self.pick(index + 1, used.union(place), new_low, new_high)
            if picked is not None:
                return picked
        return None

    def _within(self, slot: _Slot, low: int, high: int) -> Iterator[tuple[int, int, Place]]:
        """The places of a slot that, with the words from `low` to `high`, lie within WINDOW words."""
        for k in range(bisect_left(slot.firsts, high - WINDOW), bisect_right(slot.firsts, low + WINDOW)):
            self.steps += 1
            first, last, place = slot.places[k]
            new_low, new_high = min(low, first), max(high, last)
            if new_high - new_low <= WINDOW:
                yield new_low, new_high, place

    def _fits(self, slot: _Slot, low: int, high: int) -> bool:
        return next(self._within(slot, low, high), None) is not None


def parse_verb(line: str, normalise: Normalise) -> Verb:
    """`@name = particle words | forms`; the first form is the infinitive."""
    match = re.fullmatch(r"@\s*(\w+)\s*=\s*([^|]*)\|(.+)", line)
    if not match:
        raise ValueError(f"not a verb line: {line!r}")
    particle = tuple(normalise(match.group(2)).split())
    forms = frozenset(normalise(match.group(3)).split())
    if not forms:
        raise ValueError(f"a verb without forms: {line!r}")
    joined = frozenset(particle[0] + form for form in forms) if len(particle) == 1 else frozenset()
    return Verb(match.group(1).lower(), particle, forms, joined)


def parse_rule(category: str, line: str, verbs: dict[str, Verb], normalise: Normalise) -> Rule:
    """`~ slot + slot ! excluded/words`; a slot is alternatives joined by "/", each words or `@verb`."""
    body, _, excluded = line.lstrip("~").partition("!")
    slots = []
    for raw_slot in body.split("+"):
        slot: list[Words | Verb] = []
        for raw in raw_slot.split("/"):
            name = raw.strip()
            if name.startswith("@"):
                if name[1:].lower() not in verbs:
                    raise ValueError(f"unknown verb {name} in {line!r}")
                slot.append(verbs[name[1:].lower()])
            elif words := tuple(normalise(name).split()):
                slot.append(words)
        if not slot:
            raise ValueError(f"an empty slot in {line!r}")
        slots.append(tuple(slot))
    unwanted = tuple(w for w in (tuple(normalise(x).split()) for x in excluded.split("/")) if w)
    anchors = tuple(frozenset().union(*(_anchors(alternative) for alternative in slot)) for slot in slots)
    return Rule(category, line.strip(), tuple(slots), unwanted, anchors)


def _anchors(alternative: Words | Verb) -> frozenset[str]:
    """Words of which a clause holds at least one wherever the alternative occurs in it."""
    if not isinstance(alternative, Verb):
        return frozenset(alternative[:1])
    if alternative.particle:
        return alternative.joined | frozenset(alternative.particle[:1])
    return alternative.forms


def pieces(sentence: str) -> list[str]:
    """A sentence cut at commas, colons, brackets, quotes and dashes (before normalising, which drops them)."""
    return _CLAUSE_BREAKS.split(sentence)


def clauses(words: Words) -> list[Words]:
    """The clauses of one piece: a new one starts at a subordinating conjunction before a subject."""
    found: list[Words] = []
    start = 0
    for i in range(1, len(words) - 1):
        if words[i] in SPLITTERS and words[i + 1] in SUBJECTS and i > start:
            found.append(words[start:i])
            start = i + 1
    if words[start:]:
        found.append(words[start:])
    return found
