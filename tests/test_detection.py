"""Crisis phrases and identifying details: what must match and what must not (pure functions)."""

import pytest

from supportgroup.safety import detection
from supportgroup.safety.detection import (
    PhraseMatcher,
    crisis_categories,
    identifying_details,
    normalise,
    parse_phrases,
)

MUST_MATCH = [
    # suicide
    ("Ik wil  NIET meer leven", "suicide"),
    ("ik wil dood", "suicide"),
    ("Soms denk ik aan zelfmoord.", "suicide"),
    ("Ik zie het écht niet meer zitten...", "suicide"),
    ("I want to kill myself", "suicide"),
    ("I DON'T want to live anymore", "suicide"),
    ("i dont want to live like this", "suicide"),
    ("everyone would be better off without me", "suicide"),
    ("zelfmooooord", "suicide"),
    # self-harm
    ("Gisteren heb ik mezelf weer pijn gedaan, ik doe mezelf pijn", "self_harm"),
    ("ik snijd mezelf soms", "self_harm"),
    ("I've been cutting myself again", "self_harm"),
    ("I want to hurt myself", "self_harm"),
    # immediate danger
    ("Hij staat voor de deur!!", "danger"),
    ("ik ben niet veilig", "danger"),
    ("I'm not safe here", "danger"),
    ("he's going to kill me", "danger"),
    ("He is  going to KILL me", "danger"),
    # weapons
    ("hij heeft een mes", "weapons"),
    ("Hij dreigde met een mes", "weapons"),
    ("he has a knife", "weapons"),
    ("he pulled a knife on me", "weapons"),
    ("my ex has a gun", "weapons"),
    # a child in danger
    ("Mijn kinderen zijn niet veilig bij hem", "child"),
    ("hij slaat de kinderen", "child"),
    ("my kids are not safe with him", "child"),
    ("My kids aren't safe", "child"),
    ("he hits the kids when he's drunk", "child"),
    # being found
    ("hij weet waar ik ben", "found"),
    ("Hij wéét waar ik woon", "found"),
    ("he knows where I live", "found"),
    ("He found me. He knows where the shelter is", "found"),
    ("ze weet waar ik ben", "found"),
]

MUST_NOT_MATCH = [
    # Decided: a knife bought for the kitchen is not a signal. Single words ("mes", "knife") are not in the
    # lists: people talk about cooking, and about the past, and a flood of alerts hides the real ones.
    "ik heb een mes gekocht voor de keuken",
    "I killed it at work today",
    "de kinderen zijn bij oma, veilig",
    "we gaan naar de kamers",
    "I begun a new job",
    "this song kills me, haha",
    "het gaat goed met de kinderen",
    "ik voel me veilig in deze groep",
    "I feel safe here now",
    "ik ben bang geweest, maar nu gaat het beter",
    "the kids are safe with my mother",
    "hij wist niet waar ik was en dat was goed",
    "mijn leven is beter nu",
    "",
]


@pytest.mark.parametrize(("text", "category"), MUST_MATCH)
def test_signals_match(app, text, category):
    assert category in crisis_categories(text), text


@pytest.mark.parametrize("text", MUST_NOT_MATCH)
def test_ordinary_sentences_do_not_match(app, text):
    assert crisis_categories(text) == [], text


def test_normalise_case_accents_punctuation_spacing():
    assert normalise("  Hij  WÉÉT,   waar-ik ben!! ") == "hij weet waar ik ben"
    assert normalise("I'm") == normalise("Im") == "im"
    assert normalise("Suïcide") == "suicide"


def test_whole_words_only():
    matcher = PhraseMatcher(parse_phrases(["# weapons", "mes", "gun"]))
    assert matcher.categories("hij heeft een mes") == ["weapons"]
    assert matcher.categories("Mes!") == ["weapons"]
    for text in ("mesen", "de kamers", "messen", "I begun", "gunman", "een shotgun"):
        assert matcher.categories(text) == [], text


def test_phrase_files_have_every_category_in_both_languages():
    for language in detection.LANGUAGES:
        with open(detection.DEFAULT_DIR / f"{language}.txt", encoding="utf-8") as handle:
            phrases = parse_phrases(handle)
        assert set(phrases) - set(detection.NOT_CATEGORIES) == set(detection.CATEGORIES)
        assert 20 <= sum(len(phrases[c]) for c in detection.CATEGORIES) <= 120, language
        PhraseMatcher(phrases)  # every rule names verbs the file defines


def test_phrases_dir_is_configurable(app, tmp_path):
    (tmp_path / "xx.txt").write_text("# danger\nrode olifant\n", encoding="utf-8")
    app.config["PHRASES_DIR"] = str(tmp_path)
    assert crisis_categories("Een RODE  olifant!") == ["danger"]
    assert crisis_categories("ik wil dood") == []
    del app.config["PHRASES_DIR"]
    assert crisis_categories("ik wil dood") == ["suicide"]


def test_several_categories_in_one_message(app):
    assert crisis_categories("hij heeft een mes en hij weet waar ik woon") == ["weapons", "found"]


IDENTIFYING = [
    ("bel me op 06-12345678", "phone"),
    ("0612345678", "phone"),
    ("mijn nummer: +31 6 12345678", "phone"),
    ("0031612345678", "phone"),
    ("020-1234567", "phone"),
    ("+44 20 7946 0958", "phone"),
    ("06 12 34 56 78", "phone"),
    ("+31 (0)6 12345678", "phone"),
    ("06 - 12345678", "phone"),
    ("mail me: jan.jansen@gmail.com", "email"),
    ("Sanne+groep@Example.NL", "email"),
    ("ik woon op 1234 AB 12", "postcode"),
    ("1234AB 12a", "postcode"),
    ("postcode 1234 ab 7", "postcode"),
    ("facebook.com/jan.jansen", "social"),
    ("https://www.instagram.com/jan_j", "social"),
    ("tiktok @jantje", "social"),
    ("https://www.tiktok.com/@jantje", "social"),
    ("linkedin.com/in/jan-jansen-123", "social"),
    ("x.com/jantje", "social"),
    ("twitter.com/jantje", "social"),
    ("insta: @sanne.b", "social"),
    ("snapchat.com/add/sanne", "social"),
]

NOT_IDENTIFYING = [
    "ik ben 34",
    "om 19:30",
    "3 kinderen",
    "2024",
    "sinds 2024 en 3 kinderen",
    "op 06-12-2024 om 19 uur",
    "het kostte 1000 euro",
    "12.000 euro",
    "om 10.30 uur",
    "in 1990 in 3 jaar",
    "kijk op max.com/foo",
    "we waren met z'n 12en",
    "ik heb 2 jongens van 5 en 7",
    "bel 112 als het misgaat",
    "Veilig Thuis 0800 2000",
    "facebook is niets voor mij",
    "ik zit op instagram",
    "@Sam dank je",
]


@pytest.mark.parametrize(("text", "kind"), IDENTIFYING)
def test_identifying_details(text, kind):
    assert kind in identifying_details(text), text


@pytest.mark.parametrize("text", NOT_IDENTIFYING)
def test_ordinary_numbers_and_words_are_not_identifying(text):
    assert identifying_details(text) == [], text
