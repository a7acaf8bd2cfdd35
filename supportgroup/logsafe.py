"""Log lines that cannot be forged and hold no address, whoever wrote them (our code or any library's).

Libraries log what clients send: python-engineio a bad `sid` or a refused `Origin` as they came, gevent and
gunicorn a malformed request line, gunicorn the client's address with it. A `%0D%0A` or an ANSI escape in
such a value would write a line of the attacker's choosing into the log, or rewrite what a terminal shows.

So every record is made by `SafeLogRecord` (installed process-wide with `logging.setLogRecordFactory`,
so it holds for every logger and handler, including ones a library adds later): its message has every
control character (C0, DEL, C1, the Unicode line and paragraph separators and the bidi controls) written
as an escape (`\\r`, `\\n`, `\\x1b`, `\\u202e`), and IP addresses replaced with `[address]`. A traceback
keeps its lines, but each starts with `| `: a line that does not is always the start of a record.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import traceback

_ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
# C0 (tab too), DEL, C1, and the format characters that reorder or break displayed text.
_FORMAT_CHARACTERS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT_CHARACTERS}]")
_CONTROLS_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMAT_CHARACTERS}]")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?![0-9A-Fa-f:])")
ADDRESS = "[address]"
CONTINUATION = "| "


def _escape_char(match: re.Match) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _address_or_text(match: re.Match) -> str:
    text = match.group()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text  # a time (19:30:00), a version (1.2.3) or other text with colons
    return ADDRESS


def redact_addresses(text: str) -> str:
    return _IPV4.sub(_address_or_text, _IPV6.sub(_address_or_text, text))  # v6 first: ::ffff:10.0.0.1


def clean(text: str) -> str:
    """One line: control characters escaped, addresses replaced."""
    return redact_addresses(CONTROLS.sub(_escape_char, text))


def clean_block(text: str) -> str:
    """Several lines (a traceback): controls but newlines escaped, addresses replaced, every line marked."""
    text = redact_addresses(_CONTROLS_BUT_NEWLINE.sub(_escape_char, text.rstrip("\n")))
    return "\n".join(CONTINUATION + line for line in text.split("\n"))


class SafeLogRecord(logging.LogRecord):
    """A log record whose message, traceback and stack are safe to write as they are (module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.exc_info and self.exc_info[0] is not None:
            # Formatters use exc_text when it is set: give them the cleaned traceback.
            self.exc_text = clean_block("".join(traceback.format_exception(*self.exc_info)))
        if self.stack_info:
            self.stack_info = clean_block(self.stack_info)

    def getMessage(self) -> str:
        try:
            message = super().getMessage()
        except Exception:  # noqa: BLE001  (a library's bad format string must not hide the record)
            message = f"{self.msg!r} % {self.args!r}"
        return clean(message)


def install() -> None:
    """Make every log record of this process a `SafeLogRecord` (idempotent)."""
    current = logging.getLogRecordFactory()
    if current is SafeLogRecord or getattr(current, "cleans_records", False):
        return
    if current is logging.LogRecord:
        logging.setLogRecordFactory(SafeLogRecord)
        return

    def factory(*args, **kwargs):  # someone else's factory first: keep it, and clean what it makes
        record = current(*args, **kwargs)
        record.msg, record.args = clean(record.getMessage()), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = clean_block("".join(traceback.format_exception(*record.exc_info)))
        return record

    factory.cleans_records = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def route_gevent_errors() -> None:
    """Send the gevent hub's error reports through logging (cleaned) instead of straight to stderr.

    The hub prints a traceback and its "context" for every error a greenlet did not handle: for a
    request, pywsgi's environ, whose printed form held the client's address and port.
    """
    import gevent

    log = logging.getLogger("gevent.hub")

    def print_exception(context, kind, value, tb):
        where = "a request" if isinstance(context, dict) else repr(context)[:200]
        name = getattr(kind, "__name__", "exception")
        log.error(
            "%s failed with %s", where, name, exc_info=(kind, value, tb) if isinstance(value, BaseException) else None
        )

    gevent.get_hub().print_exception = print_exception
