"""Fuzzing every parser of outside input: any webhook body gives an Outcome (never an exception
but Airtable's), any formula-shaped text compiles or is refused as a syntax error, any environment
gives Settings or a clear configuration error. Example counts stay modest: the suite stays fast."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from emulators.airtable.formula import Context, FormulaSyntaxError, compile_formula
from schemas import options as opt
from shared import bootstrap
from shared.airtable import AirtableRejected, AirtableUnavailable
from shared.intake.service import Outcome
from shared.settings import ConfigurationError, Settings, isolated_settings
from tests.conftest import sample_json

LIVE = hypothesis_settings(max_examples=80, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
OUTCOMES = {s.value for s in opt.JournalStatus} | {Outcome.DUPLICATE}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@st.composite
def mutated_payloads(draw: st.DrawFn, form_id: str) -> bytes:
    """A real volunteer delivery with one answer, one hidden field or one top-level value replaced."""
    payload = copy.deepcopy(sample_json("typeform_volunteer.json"))
    response = payload["form_response"]
    response["form_id"] = form_id
    response["token"] = draw(st.text(min_size=1, max_size=12))
    where = draw(st.sampled_from(["answer", "answer-type", "hidden", "response", "top"]))
    if where in ("answer", "answer-type"):
        answer = draw(st.sampled_from(response["answers"]))
        key = answer["type"] if where == "answer" else "type"
        answer[key] = draw(json_values if where == "answer" else st.sampled_from(
            ["text", "email", "number", "boolean", "choice", "choices", "phone_number", "x"]))
    elif where == "hidden":
        response["hidden"] = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    else:
        target = response if where == "response" else payload
        target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return json.dumps(payload).encode()


def webhook_bodies(form_id: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                     mutated_payloads(form_id))


# The stack's server threads keep running while Hypothesis draws, and whatever they take from the
# global `random` looks to it like a strategy using `random`.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
def test_any_webhook_body_gives_an_outcome(live):
    intake = bootstrap.intake()

    @LIVE
    @given(webhook_bodies(live.form_id("volunteer")))
    def receives(body: bytes) -> None:
        try:
            outcome = intake.receive(body)
        except (AirtableRejected, AirtableUnavailable):
            return  # a vendor's refusal: the sender is asked to retry, nothing is lost
        assert isinstance(outcome, Outcome) and outcome.status in OUTCOMES and outcome.detail

    receives()


# --- the emulator's formulas --------------------------------------------------------------------

FIELDS = {"Name", "Age", "Tags"}
NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)
TOKENS = ["{Name}", "{Age}", "{Tags}", "{Nope}", "'a'", '"b"', "'\\''", '"\\""', "1", "2.5", "-", "+", "*", "/",
          "&", "=", "!=", "<", ">=", "(", ")", ",", "OR", "AND", "NOT", "TRUE()", "FALSE()", "BLANK()", "IF",
          "FIND", "LEN", "RECORD_ID()", "DATETIME_PARSE", "IS_AFTER", "SEARCH", "LOWER", "ARRAYJOIN", " "]


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_formula_shaped_text_compiles_and_evaluates_or_is_refused_as_syntax(text: str) -> None:
    """Random text rarely gets past the tokenizer; these strings reach the parser and evaluator."""
    try:
        compiled = compile_formula(text, FIELDS)
    except FormulaSyntaxError:
        return
    context = Context({"Name": "a'b\"c", "Age": 3, "Tags": ["x", "y"]}, "recAAAAAAAAAAAAAA",
                      "2026-11-27T12:00:00.000Z", NOW)
    assert compiled.matches(context) in (True, False)


# --- settings -----------------------------------------------------------------------------------

SETTING_NAMES = sorted(Settings.model_fields)
env_values = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "0", "-1", "1e309", "production", "local",
                                                              "http://127.0.0.1:1", "https://exemple.fr", "nan"]))


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(SETTING_NAMES), env_values, max_size=6),
       st.sampled_from(["local", "production", "staging"]))
def test_any_environment_gives_settings_or_a_clear_error(values: dict[str, Any], environment: str) -> None:
    try:
        settings = isolated_settings(**{**values, "BINOME_ENV": environment})
    except ConfigurationError as exc:
        assert str(exc)
        return
    except pydantic.ValidationError as exc:
        assert exc.errors() and all(e["loc"] for e in exc.errors())  # names the variable
        return
    assert isinstance(settings, Settings) and settings.BINOME_ENV in ("local", "production")
    if settings.BINOME_ENV == "production":
        pytest.fail("production started on fuzzed values")  # every secret would have to be set
