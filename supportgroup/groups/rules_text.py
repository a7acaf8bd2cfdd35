"""House rules as plain text with a little Markdown, and the ONE function that turns them into HTML.

Coordinators write paragraphs (a blank line between them), lists ("- " or "1. " at the start of a line),
**bold**, *italics*, [link text](https://...) and "### " headings. `render_rules` escapes the text, applies
those few rules and cleans the result with bleach; the editor's preview and the participant's page both call
it, so the preview is exactly what participants see.

Rules written before this editor were stored as HTML (cleaned with bleach). They are recognised by their
opening tag and keep showing as they did (`render_rules`); the editor opens them as text
(`legacy_html_to_text`), so they are saved as text the next time.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import bleach
from markupsafe import Markup, escape

LEGACY_TAGS = ["p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h3", "h4", "blockquote"]
TAGS = [*LEGACY_TAGS, "a"]
PROTOCOLS = ["http", "https", "mailto"]
MAX_LENGTH = 10000

_LEGACY = re.compile(r"^\s*<(?:p|ul|ol|li|strong|em|b|i|h3|h4|blockquote|br)\b[^>]*>", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_HEADING = re.compile(r"^\s*#{1,4}\s+(.*)$")
_QUOTE = re.compile(r"^\s*&gt;\s?(.*)$")  # after escaping, "> " is "&gt; "
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?=\S)([^*_\n]+?)(?<=\S)[*_](?![\w*])")


def is_legacy_html(source: str) -> bool:
    return bool(_LEGACY.match(source or ""))


def normalize(source: str) -> str:
    """What is stored: the coordinator's text with plain line ends and no space around it."""
    return (source or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _inline(text: str) -> str:
    text = _LINK.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _ITALIC.sub(r"<em>\1</em>", text)


def _blocks(escaped: str) -> list[str]:
    html: list[str] = []
    kind, items = "", list[str]()  # the open block: "p", "ul", "ol", "blockquote"

    def close() -> None:
        nonlocal kind, items
        if kind == "p":
            html.append("<p>" + "<br>".join(items) + "</p>")
        elif kind in ("ul", "ol"):
            html.append(f"<{kind}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{kind}>")
        elif kind == "blockquote":
            html.append("<blockquote><p>" + "<br>".join(items) + "</p></blockquote>")
        kind, items = "", []

    for line in escaped.split("\n"):
        if not line.strip():
            close()
            continue
        found, block = None, "p"
        for pattern, name in ((_BULLET, "ul"), (_NUMBER, "ol"), (_QUOTE, "blockquote"), (_HEADING, "h3")):
            found = pattern.match(line)
            if found:
                block = name
                break
        if block == "h3":
            close()
            html.append(f"<h3>{_inline(found.group(1).strip())}</h3>")  # type: ignore[union-attr]
            continue
        if block != kind:
            close()
            kind = block
        items.append(_inline((found.group(1) if found else line).strip()))
    close()
    return html


def render_rules(source: str) -> Markup:
    """The house rules as participants see them (and as the editor's preview shows them)."""
    source = source or ""
    if is_legacy_html(source):
        return Markup(bleach.clean(source, tags=LEGACY_TAGS, attributes={}, strip=True).strip())
    html = "".join(_blocks(str(escape(normalize(source)))))
    cleaned = bleach.clean(html, tags=TAGS, attributes={"a": ["href"]}, protocols=PROTOCOLS, strip=True)
    return Markup(cleaned.replace("<a href=", '<a rel="noopener noreferrer" href='))


class _ToText(HTMLParser):
    """Legacy HTML rules (only LEGACY_TAGS, no attributes: bleach cleaned them) back to the editor's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is numbered, next number]

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("p", "h3", "h4", "blockquote"):
            self.out.append("\n\n" + {"h3": "### ", "h4": "### ", "blockquote": "> "}.get(tag, ""))
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 1])
            self.out.append("\n")
        elif tag == "li":
            numbered = self.lists[-1] if self.lists else [False, 1]
            self.out.append(f"\n{numbered[1]}. " if numbered[0] else "\n- ")
            numbered[1] += 1
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.out.append("\n\n")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data) if data.strip() else "")


def legacy_html_to_text(source: str) -> str:
    """The text to put in the editor: stored legacy HTML converted, anything else as it is."""
    if not is_legacy_html(source):
        return source or ""
    parser = _ToText()
    parser.feed(bleach.clean(source, tags=LEGACY_TAGS, attributes={}, strip=True))
    parser.close()
    text = "".join(parser.out)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def same_for_readers(old: str, new: str) -> bool:
    """Whether participants would see the same rules (then nobody needs to accept them again)."""
    squash = lambda html: re.sub(r"\s+", " ", str(html)).strip()  # noqa: E731
    return squash(render_rules(old)) == squash(render_rules(new))
