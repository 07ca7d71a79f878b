"""The formula evaluator alone: parsing, Airtable's value rules, and refusal of what it lacks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from pyairtable import formulas as F

from emulators.airtable.formula import Context, FormulaSyntaxError, compile_formula
from tests.conftest import BASE_ID

NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)
FIELDS = {"Name", "Age", "Tags", "Done", "Born", "Empty", "Two words"}


def evaluate(formula, **values):
    ctx = Context(values, "recAAAAAAAAAAAAAA", "2026-11-27T12:00:00.000Z", NOW)
    return compile_formula(str(formula), FIELDS).matches(ctx)


@pytest.mark.parametrize("formula, values, expected", [
    ("{Name} = 'Ann'", {"Name": "Ann"}, True),
    ("{Name} = 'ann'", {"Name": "Ann"}, False),  # text equality is case-sensitive
    ("{Name} != 'Ann'", {"Name": "Bob"}, True),
    ("{Name} <> 'Ann'", {"Name": "Ann"}, False),
    ("{Age} >= 12", {"Age": 12}, True),
    ("{Age} < 12.5", {"Age": 12}, True),
    ("{Age} = '12'", {"Age": 12}, True),
    ("{Age} + 1 = 13", {"Age": 12}, True),
    ("-{Age} * 2 = -24", {"Age": 12}, True),
    ("{Age} / 0", {"Age": 12}, False),  # an error filters the record out
    ("{Empty} = BLANK()", {}, True),
    ("{Empty} = ''", {}, True),
    ("{Empty} = 0", {}, True),
    ("NOT({Empty})", {}, True),
    ("{Done}", {"Done": True}, True),
    ("{Done} = FALSE()", {}, True),
    ("{Done} = TRUE()", {"Done": True}, True),
    ("{Two words} = 'x'", {"Two words": "x"}, True),
    ("Name = 'Ann'", {"Name": "Ann"}, True),  # one-word names need no braces
    ("FIND('b', {Tags}) > 0", {"Tags": ["a", "b"]}, True),
    ("{Tags} = 'a, b'", {"Tags": ["a", "b"]}, True),
    ("ARRAYJOIN({Tags}, ';') = 'a;b'", {"Tags": ["a", "b"]}, True),
    ("LEN(ARRAYUNIQUE({Tags})) = 0", {"Tags": ["a", "a"]}, False),
    ("SEARCH('X', 'abc')", {}, False),
    ("SEARCH('B', 'abc') = 2", {}, True),
    ("UPPER(LEFT('abc', 2)) & RIGHT('xyz', 1) = 'ABz'", {}, True),
    ("MID('abcdef', 2, 3) = 'bcd'", {}, True),
    ("TRIM('  a ') = 'a'", {}, True),
    ("IF({Age} > 10, 'big', 'small') = 'big'", {"Age": 11}, True),
    ("IF({Age} > 10, 'big')", {"Age": 1}, False),
    ("SWITCH({Name}, 'a', 1, 'b', 2, 0) = 2", {"Name": "b"}, True),
    ("ISERROR(1/0)", {}, True),
    ("XOR(TRUE(), TRUE())", {}, False),
    ("OR(FALSE(), AND(TRUE(), 1, 'x'))", {}, True),
    ("IS_AFTER({Born}, '2020-01-01')", {"Born": dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)}, True),
    ("IS_SAME({Born}, '2021-01-01T18:00:00Z', 'day')", {"Born": dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)}, True),
    ("DATETIME_DIFF(TODAY(), {Born}, 'days') = 2", {"Born": dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)}, True),
    ("DATESTR(DATEADD({Born}, 1, 'days')) = '2021-01-02'", {"Born": dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)}, True),
    ("DATETIME_PARSE('27/11/2026', 'DD/MM/YYYY') = DATETIME_PARSE('2026-11-27')", {}, True),
    ("RECORD_ID() = 'recAAAAAAAAAAAAAA'", {}, True),
    ("REGEX_MATCH({Name}, '^A.n$')", {"Name": "Ann"}, True),
    ("'it\\'s' = \"it's\"", {}, True),
])
def test_formula_values(formula, values, expected):
    assert evaluate(formula, **values) is expected


def test_pyairtable_formula_builders_compile():
    built = [
        F.match({"Name": "O'Neil", "Age": 3}),
        F.match({"Name": "a"}, match_any=True),
        F.AND(F.EQ(F.Field("Name"), "x"), F.NOT(F.Field("Done").eq(True))),
        F.OR(F.GT(F.Field("Age"), 1), F.LTE(F.Field("Age"), -1.5)),
        F.EQ(F.Field("Born"), dt.date(2024, 1, 2)),
        F.EQ(F.Field("Born"), dt.datetime(2024, 1, 2, 3, 4, 5)),
        F.Field("Name") & F.Field("Age"),
        F.FIND("x", F.Field("Tags")),
        F.LOWER(F.Field("Name")).eq("x"),
        F.EQ(F.Field("Age"), 0.25),
    ]
    for formula in built:
        compile_formula(str(formula), FIELDS)


@pytest.mark.parametrize("formula", ["", "(", "1 +", "{Name} = = 1", "FIND('a')", "NOPE()", "{Missing}", "1 2"])
def test_malformed_formulas_are_refused(formula):
    with pytest.raises(FormulaSyntaxError):
        compile_formula(formula, FIELDS)


@given(st.text(max_size=40))
def test_any_text_either_compiles_or_is_refused_cleanly(text):
    try:
        compiled = compile_formula(text, FIELDS)
    except FormulaSyntaxError:
        return
    compiled.matches(Context({"Name": "a", "Age": 1}, "rec", "2026-11-27T12:00:00.000Z", NOW))


@given(st.text(max_size=30))
def test_quoted_strings_round_trip(value):
    assert evaluate(F.EQ(F.Field("Name"), value), Name=value) is True


@given(st.lists(st.sampled_from(["a@x.fr", "b@x.fr", "O'Neil", "", "c"]), min_size=1, max_size=12),
       st.lists(st.sampled_from(["a@x.fr", "b@x.fr", "O'Neil", "c", "zz"]), min_size=1, max_size=3))
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lookups_answered_from_the_index_agree_with_the_evaluator(emulator, api, values, wanted):
    """`{Email}='…'` and `OR(…)` of them (what binome sends to find records by key) are answered
    from an index; `AND(TRUE(), …)` forces the full evaluator on the same question."""
    from pyairtable.formulas import EQ, OR, Field

    emulator.control("POST", "/reset")
    emulator.rate_limit(None)
    emulator.control("PUT", f"/airtable/bases/{BASE_ID}", json={"name": "tests"})
    table = api.base(BASE_ID).create_table("Lookups", [{"name": "Email", "type": "singleLineText"}])
    table.batch_create([{"Email": v} if v else {} for v in values])
    formula = str(OR(*(EQ(Field("Email"), w) for w in wanted)))

    def agree() -> None:
        indexed = [r["id"] for r in table.all(formula=formula)]
        evaluated = [r["id"] for r in table.all(formula=f"AND(TRUE(), {formula})")]
        assert indexed == evaluated

    agree()
    records = table.all()
    table.update(records[-1]["id"], {"Email": wanted[0]})  # the index follows writes…
    agree()
    table.delete(records[0]["id"])  # …and deletions
    agree()
    first = table.all(formula=formula)[:1]
    assert [r["id"] for r in first] == [r["id"] for r in table.all(formula=formula, max_records=1)]
