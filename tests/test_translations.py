"""Every user-facing string in code and templates has a Dutch translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def extracted_ids() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_string_is_translated_to_dutch():
    with open(ROOT / "supportgroup/translations/nl/LC_MESSAGES/messages.po", "rb") as po:
        catalogue = read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalogue
        if m.id and m.string and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(extracted_ids() - translated)
    assert not missing, f"{len(missing)} strings lack a Dutch translation (run `make extract-messages`): {missing[:10]}"


def test_pages_and_form_errors_follow_the_chosen_language(client):
    """A visitor switches to Dutch; WTForms' own messages come in Dutch too."""
    from tests.conftest import csrf_token

    assert "Inloggen" in client.get("/login?lang=nl").get_data(as_text=True)
    token = csrf_token(client, "/register")
    html = client.post("/register", data={"csrf_token": token, "username": "", "password": "", "confirm": ""}).get_data(
        as_text=True
    )
    assert "Dit veld is vereist." in html and "This field is required." not in html
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def test_language_from_the_browser(client):
    page = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="nl">' in page
