"""Crisis signals in real word order (issue #14): Dutch verb-final clauses, separable verbs, modal + infinitive,
"te" + infinitive, and the English equivalents; and the sentences that must stay quiet.

Choices made here (also in the phrase files' headers and `safety/detection.py`):
- Talking about the past is the groups' work, not an emergency: from a past word ("vroeger", "jaren
  geleden", "destijds", "I used to", "years ago") on, a sentence raises nothing, until a piece starts with
  "nu"/"now" ("vroeger ..., nu ..." is how people tell how far they have come, and what comes after "nu" is
  the present). A present word anywhere ("weer", "nog steeds", "vannacht", "again", "tonight") brings the
  whole sentence back to now.
- "Niet" turns some signals into safety and is excluded there ("hij weet niet waar ik woon", "ik ben niet meer
  in gevaar"); elsewhere a negation still alerts ("ik wil niet dood, ik wil dat het ophoudt"): a peer expert
  would rather check once too often.
- A knife in the kitchen, a film that "killed me", a mother who "will kill me if I'm late lol" are no signal;
  neither is "hij neemt de kinderen mee" (ordinary contact arrangements), which the old list matched.
"""

import re

import pytest

from supportgroup.safety import detection
from supportgroup.safety.detection import PhraseMatcher, Signal, crisis_categories, parse_phrases
from supportgroup.safety.wordorder import WINDOW, Rule, Verb, Words

# (text, the categories it must raise: exactly these, in this order; [] = none)
DUTCH = [
    # threats to the writer: verb-final subordinate clauses, modal + infinitive, "te" + infinitive
    ("Ik ben zo bang dat hij een mes heeft en me gaat vermoorden", ["danger", "weapons"]),
    ("Hij zegt steeds dat hij me gaat vermoorden als ik wegga", ["danger"]),
    ("Gaat hij me echt vermoorden?", ["danger"]),
    ("Ik weet zeker dat hij me vermoordt", ["danger"]),
    ("Hij heeft gedreigd me te vermoorden", ["danger"]),
    ("Hij heeft me vannacht bijna doodgeslagen", ["danger"]),
    ("Hij slaat me nog eens dood", ["danger"]),  # separable: sla ... dood
    ("Hij zei dat hij me om zou brengen", ["danger"]),  # particle before the verb cluster
    ("hij brengt me om", ["danger"]),  # verb second, particle last
    ("Hij wil me van kant maken", ["danger"]),
    ("Ze gaat me iets aandoen, ik voel het", ["danger"]),
    ("Ik ben bang dat hij me iets aandoet als hij thuiskomt", ["danger"]),
    ("Hij zei dat hij me kapot gaat maken", ["danger"]),
    ("Hij staat nu beneden voor de deur", ["danger"]),
    ("Ik voel me thuis niet meer veilig", ["danger"]),
    ("Ik durf vanavond niet naar huis", ["danger"]),
    # a partner who threatens to kill himself (a known risk sign in domestic violence)
    ("Hij zegt dat hij zichzelf iets aandoet als ik niet terugkom", ["danger"]),
    # threats to others
    ("Ik ga hem vermoorden als hij weer aan de kinderen komt", ["danger"]),
    ('Hij schreeuwde: "Ik vermoord je!"', ["danger"]),  # his words, quoted
    # accepted false alarm: "haha" vetoes only in its own clause, and "als je ..." starts a new one
    ("Ik vermoord je als je mijn koekje pakt haha", ["danger"]),
    ("Ik vermoord je haha", []),
    # self-harm and suicide
    ("Ik denk dat ik mezelf iets ga aandoen", ["self_harm"]),
    ("Ik ben bang dat ik mezelf iets aandoe vannacht", ["self_harm"]),
    ("Soms heb ik zin om mezelf iets aan te doen", ["self_harm"]),
    ("ik doe mezelf iets aan", ["self_harm"]),
    ("Ik heb mezelf weer wat aangedaan", ["self_harm"]),
    ("Ik heb weer in mijn arm gesneden", ["self_harm"]),
    ("Ik ga me vanavond opknopen", ["suicide"]),
    ("ik knoop me op", ["suicide"]),
    ("Ik wil me gewoon ophangen", ["suicide"]),
    ("Ik ga mezelf van kant maken", ["suicide"]),
    ("Ik denk erover om mezelf van kant te maken", ["suicide"]),
    ("dat ik me van kant ga maken", ["suicide"]),
    ("Ik ga al mijn pillen innemen", ["suicide"]),
    ("Ik neem straks alle pillen in", ["suicide"]),
    ("Ik maak er vanavond een eind aan", ["suicide"]),
    ("Ik denk dat ik er een einde aan ga maken", ["suicide"]),
    ("Soms wil ik gewoon dood", ["suicide"]),
    ("Ik zie het echt gewoon niet meer zitten", ["suicide"]),
    ("Ik wil niet dood, ik wil dat het ophoudt", ["suicide"]),  # a negation still alerts
    # weapons, children, being found
    ("Hij pakte gisteren een mes uit de la", ["weapons"]),
    ("Mijn ex heeft een pistool in huis", ["weapons"]),
    ("Hij bedreigde me met een mes", ["weapons"]),
    ("Hij stond met een mes in de gang", ["weapons"]),
    ("Ik heb een mes in mijn tas voor de zekerheid", ["weapons"]),
    ("Hij weet waar mijn werk is", ["found"]),
    ("Ik ben bang dat hij de kinderen slaat", ["child"]),
    ("Ik denk dat hij de kinderen iets aandoet", ["child"]),
    ("De kinderen zijn daar niet meer veilig", ["child"]),
    ("Ik ben bang dat hij weet waar ik nu woon", ["found"]),
    ("Mijn ex weet waar de opvang is", ["found"]),
    # the past brought back to now
    ("Vroeger zei hij dat hij me zou vermoorden, en nu zegt hij het weer", ["danger"]),
    ("Vroeger sloeg hij me, nu weet hij waar ik woon", ["found"]),
    # must stay quiet
    ("ik heb een mes gekocht voor de keuken", []),
    ("Hij heeft een nieuw mes gekocht voor de keuken", []),
    ("Ik snijd de groente met een scherp mes", []),
    ("die film maakte me kapot", []),
    ("Dat werk maakt me echt kapot", []),
    ("ik ga me aanmelden voor de cursus", []),
    ("Ik ga me omkleden en dan kom ik", []),
    ("Ik breng de kinderen om acht uur naar school", []),
    ("Hij brengt me om negen uur naar huis", []),  # "om" that does not end the clause is no "ombrengen"
    ("Ik doe mee aan de groep vanavond", []),
    ("Ik hang de was op en dan bel ik je", []),
    ("Vroeger zei hij dat hij me zou vermoorden", []),
    ("Jaren geleden heb ik mezelf vaak iets aangedaan", []),
    ("Vroeger zag ik het niet meer zitten, nu gaat het veel beter met me", []),
    ("Destijds had hij altijd een mes bij zich", []),
    ("In mijn vorige relatie wist hij altijd waar ik was", []),
    ("Hij weet niet waar ik woon en dat is goed", []),
    ("Ik ben niet meer in gevaar, ik woon nu veilig", []),
    ("Ik voel me niet veilig genoeg om mijn camera aan te zetten", []),
    ("Die serie heeft me bijna vermoord van het lachen", []),
    ("Ik heb er een eind aan gemaakt, ik ben bij hem weg", []),  # ended the relationship
    ("Ik wil een einde maken aan de relatie", []),
    ("Ik heb mezelf per ongeluk gesneden met het broodmes", []),
    ("Ik neem mijn pillen elke ochtend in", []),
    ("Hij neemt de kinderen mee naar de dierentuin", []),
    ("Ik zie het wel zitten, die nieuwe baan", []),
    ("We hebben geleerd hoe je een veiligheidsplan maakt", []),
    ("Ze hebben geen wapen in huis, gelukkig", []),
    # distress without a signal word: left to the peer expert's reading, not an alert
    ("Ik kan niet meer", []),
    ("Soms wil ik gewoon verdwijnen", []),
    ("Hij dreigt de kinderen af te pakken", []),
    ("Ik heb mezelf vandaag een compliment gegeven", []),
    ("Ik neem de kinderen mee naar de opvang", []),
    # the old fixed phrases alerted on these
    ("Ik snijd groente met een mes", []),
    ("Mijn zoon heeft een mes gekocht voor de keuken", []),
    ("Vroeger dacht ik vaak aan zelfmoord", []),
    ("In mijn vorige relatie dreigde hij met een mes, nu ben ik veilig", []),
]

ENGLISH = [
    ("He said he'll kill me if I ever leave", ["danger"]),
    ("I'm scared he is actually going to kill me tonight", ["danger"]),
    ("I know he'd kill me if he found out I'm here", ["danger"]),
    ("I'm used to him threatening to kill me", ["danger"]),  # "I'm used to" is no past
    ("I'm going to kill him, I swear", ["danger"]),
    ('He screamed "I will kill you" and smashed the door', ["danger"]),
    ("I don't feel safe at home anymore", ["danger"]),
    ("He's outside my house right now", ["danger", "found"]),
    ("My ex just bought a gun", ["weapons"]),
    ("He's got a knife and he's drunk", ["weapons"]),
    ("He threatened me with a knife", ["weapons"]),
    ("I carry a knife in my bag now", ["weapons"]),
    ("He said he would kill himself if I left", ["danger"]),
    ("I think I'm going to hurt myself tonight", ["self_harm"]),
    ("I've been cutting myself again", ["self_harm"]),
    ("I just want to die", ["suicide"]),
    ("I'm going to take all my pills", ["suicide"]),
    ("I want to jump off the bridge", ["suicide"]),
    ("I don't want to be here anymore", ["suicide"]),
    ("I'm scared he will hurt the kids", ["child"]),
    ("He found out where I live", ["found"]),
    ("My ex knows where the shelter is", ["found"]),
    ("I used to cut myself and last night I did it again", ["self_harm"]),
    ("Back then he hit me, now he knows where I live", ["found"]),
    # must stay quiet
    ("I bought a knife for the kitchen", []),
    ("This movie killed me, I was laughing so hard", []),
    ("My mom is going to kill me if I'm late lol", []),
    ("He used to say he would kill me", []),
    ("Years ago I used to cut myself, now I'm doing well", []),
    ("I hurt myself at the gym", []),
    ("He doesn't know where I live and that's good", []),
    ("I don't feel safe enough to turn my camera on", []),
    ("I'm going to sign up for the course", []),
    ("He has a new job in the city", []),
    ("I killed it at my interview today", []),
    ("I'm exhausted and I can't do this anymore", []),
    ("My therapist says I shouldn't blame myself", []),
    ("I'd die for a coffee right now", []),
    ("We learned about safety plans today", []),
]


@pytest.mark.parametrize(("text", "expected"), DUTCH + ENGLISH)
def test_word_order_table(app, text, expected):
    assert crisis_categories(text) == expected, text


def test_the_table_is_big_enough_both_ways():
    for table, least in ((DUTCH, 40), (ENGLISH, 20)):
        assert len(table) >= least
        assert sum(1 for _, expected in table if expected) >= least // 2
        assert sum(1 for _, expected in table if not expected) >= least // 2


def test_a_signal_says_its_category_rule_and_words(app):
    signals = detection.matcher().explain("Ik ben bang dat hij een mes heeft en me gaat vermoorden")
    assert [s.category for s in signals] == ["danger", "weapons"]
    danger = signals[0]
    assert danger.rule.startswith("~ me/mij/ons + @vermoorden")
    assert danger.words == ("me", "vermoorden")
    assert signals[1].words == ("hij", "mes", "heeft")
    assert detection.matcher().explain("hij staat voor de deur") == [
        Signal("danger", "hij staat voor de deur", ("hij", "staat", "voor", "de", "deur"))
    ]


SMALL = [
    "# verbs",
    "@aandoen = aan | doen doe doet deed gedaan",
    "@vankant = van kant | maken maak maakt",
    "# self_harm",
    "~ mezelf + iets + @aandoen ! grapje",
    "~ mezelf + @vankant",
    "# past",
    "vroeger",
    "# present",
    "weer",
    "# now",
    "nu",
]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ik wil mezelf iets aandoen", True),  # joined
        ("dat ik mezelf iets aandeed", True),  # joined past tense
        ("dat ik mezelf iets heb aangedaan", True),  # joined participle
        ("om mezelf iets aan te doen", True),  # particle, te, infinitive
        ("dat ik mezelf iets aan ga doen", True),  # particle, auxiliary, infinitive
        ("ik doe mezelf iets aan", True),  # split, particle last
        ("ik doe mezelf iets aan, echt", True),  # a comma ends the clause
        ("ik doe mezelf iets aan als ik alleen ben", True),  # so does a conjunction before a subject
        ("ik doe mezelf iets aan de hand", False),  # the particle does not end the clause
        ("mezelf iets aandoen, grapje", True),  # an excluded word counts in its own clause only
        ("mezelf iets aandoen grapje", False),
        ("ik maak mezelf van kant", True),
        ("mezelf van kant te maken", True),
        ("mezelf iets", False),
        ("vroeger wilde ik mezelf iets aandoen", False),
        ("vroeger wilde ik mezelf iets aandoen en nu weer", True),
        ("vroeger was het zwaar. Nu wil ik mezelf iets aandoen", True),  # the past is per sentence
        ("vroeger was het zwaar, mezelf iets aandoen", False),  # and goes on to later pieces
        ("vroeger was het zwaar, nu wil ik mezelf iets aandoen", True),  # until one starts with "nu"
        ("mezelf iets aandoen, vroeger", True),  # the past starts at its word
        ("mezelf a b c d e f g h i j k iets aandoen", False),  # further apart than the window
    ],
)
def test_separable_verbs_clauses_and_markers(text, found):
    matcher = PhraseMatcher(parse_phrases(SMALL))
    assert (matcher.categories(text) == ["self_harm"]) is found, text


def test_a_rule_with_an_unknown_verb_is_refused():
    with pytest.raises(ValueError, match="@nergens"):
        PhraseMatcher(parse_phrases(["# danger", "~ hij + @nergens"]))


def test_matching_compiles_no_regular_expression(app, monkeypatch):
    matcher = detection.matcher()
    texts = [text for text, _ in DUTCH + ENGLISH] + ["neeeee ik wil dooood", "zelfmoooord. Hellllp!"]
    matcher.categories(texts[0])

    def refuse(*_args, **_kwargs):
        raise AssertionError("a regular expression compiled while matching")

    monkeypatch.setattr(re, "compile", refuse)
    monkeypatch.setattr(re, "_compile", refuse)
    for text in texts:
        matcher.categories(text)


# The review of issue #14: the word-order search looked at every place of a slot at every depth before
# dropping those outside the window (cubic in the clause's length; 0.6 s of CPU for one 2,000-character
# message, on the send path). It now looks only inside the window, so its steps grow linearly: at most
# PER_WORD places per word of the clause, for the longest message and for four times that (measured: under
# 1; the old search looked at up to about 1,400 per word of these clauses).
LONG = 2000  # characters: the longest message
PER_WORD = 5


def _words_of(alternative: Words | Verb) -> list[str]:
    """Text that fills a slot with this alternative: each way a verb can be written, or the words."""
    if not isinstance(alternative, Verb):
        return [" ".join(alternative)]
    form = sorted(alternative.forms)[0]
    if not alternative.particle:
        return [form]
    return [" ".join(alternative.particle) + " te " + form, " ".join(alternative.particle) + " " + form, form]


def _repeated(parts: list[str], size: int) -> list[str]:
    """The parts over and over, `size` characters at most."""
    text = " ".join(parts) + " "
    return (text * (size // len(text) + 1))[:size].rsplit(" ", 1)[0].split()


def _far_apart(rule: Rule, far: int, size: int) -> tuple[str, ...]:
    """Every slot's every alternative, over and over, but slot `far` only after a gap wider than the window."""
    near = [w for i, slot in enumerate(rule.slots) if i != far for alternative in slot for w in _words_of(alternative)]
    away = [w for alternative in rule.slots[far] for w in _words_of(alternative)]
    clause = _repeated(near, size // 2) + ["x"] * (WINDOW + 1) + _repeated(away, size // 2)
    return tuple(w for w in clause if not any(w in excluded for excluded in rule.excluded))


def _spread(rule: Rule, size: int) -> tuple[str, ...]:
    """The slots one after another, over and over, as close together as they can be without matching."""
    for gap in range(WINDOW + 1):
        period: list[str] = []
        for turn in range(6):
            for slot in rule.slots:
                ways = _words_of(slot[turn % len(slot)])
                period += [ways[turn % len(ways)]] + ["x"] * gap
        clause = tuple(_repeated(period, size))
        if rule.match(clause, set(clause)) is None:
            return clause
    raise AssertionError(rule.source)


@pytest.mark.parametrize("size", [LONG, 4 * LONG])
def test_the_word_order_search_grows_linearly_with_the_clause(size):
    rules = detection.matcher().rules
    assert len(rules) > 40
    reviewers = tuple(_repeated(["hij weet waar ik"], size - 80)) + ("x",) * (WINDOW + 1) + ("woon",) * 10
    cases = [(rule, _far_apart(rule, far, size)) for rule in rules for far in range(len(rule.slots))]
    cases += [(rule, _spread(rule, size)) for rule in rules]
    cases += [(rule, reviewers) for rule in rules if rule.source.startswith("~ hij/ze/zij/mijn ex + weet")]
    worst, missed = 0.0, 0
    for rule, clause in cases:
        assert size // 2 < len(" ".join(clause)) <= size + 2 * WINDOW + 2
        matched, steps = rule.search(clause, set(clause))
        missed += matched is None  # a search that finds nothing looks at the most
        worst = max(worst, steps / len(clause))
    assert missed >= 0.9 * len(cases)  # not all: "wish i could" holds the "i" of "i + wish i could + die"
    assert worst <= PER_WORD, worst


def test_a_match_at_the_end_of_a_long_clause_is_still_found():
    rule = next(r for r in detection.matcher().rules if r.source.startswith("~ hij/ze/zij/mijn ex + weet"))
    last = ("ik", "woon", "hij", "weet", "waar")
    clause = tuple(_repeated(["hij weet waar ik"], LONG - 80)) + ("x",) * (WINDOW + 1) + last
    matched, steps = rule.search(clause, set(clause))
    assert matched == last  # the words in the clause's order
    assert steps <= PER_WORD * len(clause)
