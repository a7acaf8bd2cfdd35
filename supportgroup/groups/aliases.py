"""Random, readable aliases, drawn per group.

An alias is never derived from the account: it is drawn from word lists with a cryptographic random
source, separately for every membership, so two memberships of one person cannot be linked.
"""

from __future__ import annotations

import secrets

ADJECTIVES = {
    "en": [
        "Quiet",
        "Calm",
        "Gentle",
        "Brave",
        "Steady",
        "Warm",
        "Bright",
        "Patient",
        "Kind",
        "Clear",
        "Soft",
        "Hopeful",
        "Wise",
        "Open",
        "Still",
        "Free",
        "Mild",
        "Honest",
        "Careful",
        "Light",
        "Strong",
        "Green",
        "Blue",
        "Golden",
        "Silver",
        "Early",
        "Quick",
        "Proud",
        "Humble",
        "Sunny",
    ],
    "nl": [
        "Stille",
        "Rustige",
        "Zachte",
        "Dappere",
        "Kalme",
        "Warme",
        "Heldere",
        "Geduldige",
        "Vriendelijke",
        "Lichte",
        "Hoopvolle",
        "Wijze",
        "Open",
        "Vrije",
        "Milde",
        "Eerlijke",
        "Zorgzame",
        "Sterke",
        "Groene",
        "Blauwe",
        "Gouden",
        "Zilveren",
        "Vroege",
        "Snelle",
        "Trotse",
        "Nederige",
        "Zonnige",
        "Vrolijke",
        "Frisse",
        "Bedachtzame",
    ],
}
ANIMALS = {
    "en": [
        "Heron",
        "Otter",
        "Fox",
        "Owl",
        "Sparrow",
        "Deer",
        "Hare",
        "Swan",
        "Robin",
        "Badger",
        "Finch",
        "Crane",
        "Seal",
        "Beaver",
        "Lark",
        "Wren",
        "Falcon",
        "Dolphin",
        "Squirrel",
        "Hedgehog",
        "Kingfisher",
        "Starling",
        "Moose",
        "Lynx",
        "Panda",
        "Turtle",
        "Koala",
        "Pelican",
        "Stork",
        "Puffin",
    ],
    "nl": [
        "Reiger",
        "Otter",
        "Vos",
        "Uil",
        "Mus",
        "Ree",
        "Haas",
        "Zwaan",
        "Roodborst",
        "Das",
        "Vink",
        "Kraanvogel",
        "Zeehond",
        "Bever",
        "Leeuwerik",
        "Winterkoning",
        "Valk",
        "Dolfijn",
        "Eekhoorn",
        "Egel",
        "IJsvogel",
        "Spreeuw",
        "Eland",
        "Lynx",
        "Panda",
        "Schildpad",
        "Koala",
        "Pelikaan",
        "Ooievaar",
        "Papegaaiduiker",
    ],
}


def draw_alias(language: str, taken: set[str]) -> str:
    """A random alias in the group's language that is not in `taken`."""
    lang = language if language in ADJECTIVES else "en"
    adjectives, animals = ADJECTIVES[lang], ANIMALS[lang]
    for _ in range(64):
        alias = f"{secrets.choice(adjectives)} {secrets.choice(animals)}"
        if alias not in taken:
            return alias
    # A very full group: add a number rather than loop forever.
    while True:
        alias = f"{secrets.choice(adjectives)} {secrets.choice(animals)} {secrets.randbelow(90) + 10}"
        if alias not in taken:
            return alias
