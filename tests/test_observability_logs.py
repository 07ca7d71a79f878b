"""The log format Cloud Logging reads, and the redaction every record goes through."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from shared.observability import context
from shared.observability.logs import CloudLoggingFormatter, FIELDS, install, severity
from shared.observability.redaction import EMAIL, FRENCH_PHONE, install_redaction, redact

TRACE_ID = "105445aa7843bc8bf206b12000100000"
PHONES = ["0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+33612345678", "+33 6 12 34 56 78",
          "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "01 42 68 53 00", "+447911123456", "+1 415 555 2671",
          "%2B33612345678"]
EMAILS = ["lea.martin@exemple.fr", "j.o'neil+binome@college-jean-moulin.ac-paris.fr", "lea.martin%40exemple.fr",
          "élodie.dupré@exemple.fr"]


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """A logger whose records come out through the JSON formatter into a buffer."""
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(CloudLoggingFormatter("binome-prod"))
    logger = logging.getLogger("tests.observability")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)


def entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_in_a_request_carries_severity_trace_span_and_the_function_label(lines):
    request = context.RequestContext("typeform_webhook", context.parse_trace(f"{TRACE_ID}/1;o=1"))
    token = context.enter(request)
    try:
        logging.getLogger("tests.observability").warning("slow answer", extra={FIELDS: {"duration_ms": 12}})
    finally:
        context.leave(token)
    [entry] = entries(lines)
    assert entry["severity"] == "WARNING" and entry["message"] == "slow answer" and entry["duration_ms"] == 12
    assert entry["logging.googleapis.com/trace"] == f"projects/binome-prod/traces/{TRACE_ID}"
    assert entry["logging.googleapis.com/spanId"] == "0000000000000001"
    assert entry["logging.googleapis.com/trace_sampled"] is True
    assert entry["logging.googleapis.com/labels"] == {"function": "typeform_webhook"}
    assert entry["time"].endswith("+00:00")


def test_a_line_outside_a_request_has_no_trace_nor_label(lines):
    logging.getLogger("tests.observability").info("cold start")
    [entry] = entries(lines)
    assert entry["severity"] == "INFO"
    assert not any(key.startswith("logging.googleapis.com/trace") or key.endswith("/labels") for key in entry)


def test_without_a_project_the_trace_id_is_still_there_unlinked():
    formatter = CloudLoggingFormatter("")
    assert formatter.trace_fields(context.Trace(TRACE_ID)) == {"trace_id": TRACE_ID,
                                                              "logging.googleapis.com/trace_sampled": False}


@pytest.mark.parametrize("header, expected", [
    (f"{TRACE_ID}/1;o=1", context.Trace(TRACE_ID, "0000000000000001", True)),
    (f"{TRACE_ID}/12345678901234567890", context.Trace(TRACE_ID, f"{12345678901234567890:016x}", False)),
    (TRACE_ID, context.Trace(TRACE_ID)),
    ("not-a-trace", None),
    (None, None),
])
def test_google_trace_header(header, expected):
    assert context.parse_trace(header) == expected


def test_w3c_traceparent_when_google_header_is_absent():
    assert context.parse_trace(None, f"00-{TRACE_ID}-00f067aa0ba902b7-01") == context.Trace(
        TRACE_ID, "00f067aa0ba902b7", True)


@pytest.mark.parametrize("level, name", [(logging.DEBUG, "DEBUG"), (logging.INFO, "INFO"), (25, "INFO"),
                                         (logging.WARNING, "WARNING"), (logging.ERROR, "ERROR"),
                                         (logging.CRITICAL, "CRITICAL"), (5, "DEFAULT")])
def test_severity_from_level(level, name):
    assert severity(level) == name


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_redacted(phone):
    assert redact(f"appeler le {phone} demain") == "appeler le <téléphone> demain"


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_redacted(email):
    assert redact(f"envoyé à {email}.") == "envoyé à <email>."


@pytest.mark.parametrize("text", ["rec0123456789abcd en 1234 ms", "2024-05-06T12:34:56+00:00", "69003 Lyon",
                                  "envoi:recABC123:accuse", "réponse 503 après 30000 ms", TRACE_ID])
def test_what_is_not_personal_stays(text):
    assert redact(text) == text


def test_message_args_and_traceback_are_redacted(lines):
    log = logging.getLogger("tests.observability")
    try:
        raise ValueError("refusé pour lea.martin@exemple.fr (06 12 34 56 78)")
    except ValueError:
        log.exception("sign-up of %s, phone %s", "lea.martin@exemple.fr", "+33612345678")
    [entry] = entries(lines)
    assert "lea.martin" not in entry["message"] and "12 34 56" not in entry["message"]
    assert "3361234" not in entry["message"]
    assert "ValueError: refusé pour <email> (<téléphone>)" in entry["message"]
    assert entry["message"].startswith("sign-up of <email>, phone <téléphone>")


def test_every_handler_gets_the_redacted_record(caplog):
    install_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("tests.observability").info("to %s", "lea.martin@exemple.fr")
    assert "lea.martin" not in caplog.text and "<email>" in caplog.text


def test_installing_twice_leaves_one_handler():
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        install(json_lines=True)
        install(json_lines=False)
        assert len([h for h in root.handlers if getattr(h, "binome", False)]) == 1
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def french_mobile() -> st.SearchStrategy[str]:
    digits = st.lists(st.integers(0, 9), min_size=8, max_size=8).map(lambda ds: "".join(map(str, ds)))
    prefix = st.sampled_from(["06", "07", "01", "09", "+336", "+33 6", "0033 7", "+33 1"])
    separator = st.sampled_from(["", " ", ".", "-"])
    return st.builds(lambda p, d, s: p + s + s.join(d[i:i + 2] for i in range(0, 8, 2)), prefix, digits, separator)


prose = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Nd")), max_size=30)


@hypothesis_settings(max_examples=300, deadline=None)
@given(before=prose, phone=french_mobile(), after=prose)
def test_any_french_number_in_any_text_is_redacted(before, phone, after):
    text = redact(f"{before} {phone} {after}")
    assert phone not in text and not FRENCH_PHONE.search(text)


@hypothesis_settings(max_examples=300, deadline=None)
@given(before=prose, user=st.from_regex(r"[a-z][a-z0-9._+-]{0,15}", fullmatch=True),
       domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(fr|org|com|ac-paris\.fr)", fullmatch=True), after=prose)
def test_any_email_in_any_text_is_redacted(before, user, domain, after):
    email = f"{user}@{domain}"
    text = redact(f"{before} {email} {after}")
    assert email not in text and not EMAIL.search(text)
