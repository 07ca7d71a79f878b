"""Emails and phone numbers out of every log record, before any handler sees it.

A log line is shipped to Cloud Logging as soon as it is written and kept there, readable by anyone
with the project's log viewer role; nobody reviews it first. So redaction happens where the record
is made (a log record factory), not in one handler: pytest's, gunicorn's or a handler added later
get the redacted text too.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import phonenumbers

EMAIL_PLACEHOLDER = "<email>"
PHONE_PLACEHOLDER = "<téléphone>"

# `%40` and `%2B`: a URL logged by an HTTP library carries an Airtable formula's email encoded.
EMAIL = re.compile(r"[\w.%+'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)
# French numbers however they are written (06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12…,
# 0033 6…), and any E.164 number (+ and 8 to 15 digits), encoded or not.
FRENCH_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|%2B|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)",
                          re.IGNORECASE)
E164 = re.compile(r"(?:\+|%2B)[1-9]\d{7,14}(?!\d)", re.IGNORECASE)
# Digits enough to be a number somewhere: only then is the slower matcher worth running.
MAYBE_PHONE = re.compile(r"\d(?:[\s().-]*\d){7}")


def redact(text: str) -> str:
    """`text` with every email address and phone number replaced by a placeholder.

    >>> redact("Léa <lea.martin@exemple.fr>, 06 12 34 56 78")
    'Léa <<email>>, <téléphone>'
    """
    text = EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = FRENCH_PHONE.sub(PHONE_PLACEHOLDER, text)
    text = E164.sub(PHONE_PLACEHOLDER, text)
    return _other_numbers(text) if MAYBE_PHONE.search(text) else text


def _other_numbers(text: str) -> str:
    """Numbers the patterns above miss (international ones written with spaces or brackets), as
    libphonenumber recognises valid numbers in running text."""
    found = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "FR")]
    for start, end in reversed(found):
        text = text[:start] + PHONE_PLACEHOLDER + text[end:]
    return text


def redacted_record(record: logging.LogRecord) -> logging.LogRecord:
    """`record` with its message (arguments merged in), exception and stack text redacted."""
    record.msg = redact(record.getMessage())
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_installed_lock = threading.Lock()


def install_redaction() -> None:
    """Redact every log record of the process from now on (once, whatever the calls)."""
    with _installed_lock:
        previous = logging.getLogRecordFactory()
        if getattr(previous, "redacts", False):
            return

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redacted_record(previous(*args, **kwargs))

        factory.redacts = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
