"""Airtable's formula language, as `filterByFormula` receives it: a parser and an evaluator.

It covers what pyairtable's `formulas` module emits and what binome uses; anything else is
refused with a clear `FormulaSyntaxError` (answered 422 INVALID_FILTER_BY_FORMULA) rather than
silently evaluated wrong.

Values inside the evaluator: None (blank), bool, int/float, str, list (multiple selects, links),
datetime (aware, UTC). A runtime error makes the formula's result an error, which Airtable
treats as false for filtering.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

UTC = dt.timezone.utc


class FormulaSyntaxError(ValueError):
    """The formula cannot be compiled; the message is meant for the API caller."""


class FormulaRuntimeError(Exception):
    """The formula evaluated to #ERROR for one record."""


# --- tokens -------------------------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<field>\{(?:[^}\\]|\\.)*\})
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|[=<>&+\-*/(),])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(source):
        match = TOKEN_RE.match(source, pos)
        if not match:
            raise FormulaSyntaxError(f"unexpected character {source[pos]!r} at position {pos}")
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup or "", match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", pos))
    return tokens


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# --- syntax tree ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class FieldRef:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class BinaryOp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Negate:
    operand: Any


class Parser:
    """Recursive descent; precedence from loosest: comparison, `&`, `+ -`, `* /`, unary minus."""

    COMPARISONS = ("=", "!=", "<>", "<", ">", "<=", ">=")

    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.i = 0

    def parse(self) -> Any:
        if self.peek().kind == "end":
            raise FormulaSyntaxError("the formula is empty")
        node = self.comparison()
        if self.peek().kind != "end":
            tok = self.peek()
            raise FormulaSyntaxError(f"unexpected {tok.text!r} at position {tok.pos}")
        return node

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            found = tok.text or "the end of the formula"
            raise FormulaSyntaxError(f"expected {text!r} at position {tok.pos}, found {found!r}")

    def _binary(self, operators: tuple[str, ...], operand: Callable[[], Any]) -> Any:
        node = operand()
        while self.peek().kind == "op" and self.peek().text in operators:
            op = self.take().text
            node = BinaryOp("!=" if op == "<>" else op, node, operand())
        return node

    def comparison(self) -> Any:
        return self._binary(self.COMPARISONS, self.concat)

    def concat(self) -> Any:
        return self._binary(("&",), self.additive)

    def additive(self) -> Any:
        return self._binary(("+", "-"), self.term)

    def term(self) -> Any:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> Any:
        if self.peek().text == "-":
            self.take()
            return Negate(self.unary())
        return self.primary()

    def primary(self) -> Any:
        tok = self.take()
        if tok.kind == "number":
            value = float(tok.text)
            return Literal(int(value) if value.is_integer() and "." not in tok.text else value)
        if tok.kind == "string":
            return Literal(_unescape(tok.text[1:-1]))
        if tok.kind == "field":
            return FieldRef(_unescape(tok.text[1:-1]))
        if tok.kind == "ident":
            if self.peek().text == "(":
                return self.call(tok.text.upper())
            return FieldRef(tok.text)  # Airtable accepts one-word field names without braces
        if tok.text == "(":
            node = self.comparison()
            self.expect(")")
            return node
        found = tok.text or "the end of the formula"
        raise FormulaSyntaxError(f"unexpected {found!r} at position {tok.pos}")

    def call(self, name: str) -> Call:
        self.expect("(")
        args = []
        if self.peek().text != ")":
            args.append(self.comparison())
            while self.peek().text == ",":
                self.take()
                args.append(self.comparison())
        self.expect(")")
        return Call(name, tuple(args))


# --- coercions ------------------------------------------------------------------------------

def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (is_blank(value) or value == 0)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(to_text(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return str(value)


def to_number(value: Any) -> float | int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a number") from None
    raise FormulaRuntimeError(f"{to_text(value)!r} is not a number")


def to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    raise FormulaRuntimeError(f"{to_text(value)!r} is not a date")


def parse_datetime(text: str, fmt: str | None = None) -> dt.datetime:
    text = text.strip()
    try:
        if fmt:
            parsed = dt.datetime.strptime(text, _moment_to_strptime(fmt))
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FormulaRuntimeError(f"{text!r} is not a date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


MOMENT_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"),
                 ("ss", "%S"), ("M", "%m"), ("D", "%d"))


def _moment_to_strptime(fmt: str) -> str:
    for moment, strp in MOMENT_TOKENS:
        fmt = fmt.replace(moment, strp)
    return fmt


def format_datetime(value: dt.datetime, fmt: str) -> str:
    return value.strftime(_moment_to_strptime(fmt))


# --- comparison -----------------------------------------------------------------------------

def equals(left: Any, right: Any) -> bool:
    if left is None or right is None:
        other = right if left is None else left
        return is_blank(other) or other == 0
    if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
        try:
            return to_datetime(left) == to_datetime(right)
        except FormulaRuntimeError:
            return False
    if _numeric(left) or _numeric(right):
        try:
            return to_number(left) == to_number(right)
        except FormulaRuntimeError:
            return False
    return to_text(left) == to_text(right)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float))


def _ordered(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
        return to_datetime(left), to_datetime(right)
    if _numeric(left) or _numeric(right) or left is None or right is None:
        return to_number(left), to_number(right)
    return to_text(left), to_text(right)


def compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return equals(left, right)
    if op == "!=":
        return not equals(left, right)
    a, b = _ordered(left, right)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "&":
        return to_text(left) + to_text(right)
    a, b = to_number(left), to_number(right)
    if op == "/":
        if b == 0:
            raise FormulaRuntimeError("division by zero")
        return a / b
    return {"+": a + b, "-": a - b, "*": a * b}[op]


# --- functions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What a formula can see of one record."""

    fields: dict[str, Any]
    record_id: str
    created_time: str  # as stored; parsed only if the formula asks for it
    now: dt.datetime


FunctionImpl = Callable[..., Any]
FUNCTIONS: dict[str, tuple[int, int | None, FunctionImpl]] = {}
CONTEXT_FUNCTIONS: dict[str, Callable[[Context], Any]] = {
    "RECORD_ID": lambda ctx: ctx.record_id,
    "CREATED_TIME": lambda ctx: parse_datetime(ctx.created_time),
    "NOW": lambda ctx: ctx.now,
    "TODAY": lambda ctx: ctx.now.replace(hour=0, minute=0, second=0, microsecond=0),
}


def function(name: str, min_args: int, max_args: int | None = None) -> Callable[[FunctionImpl], FunctionImpl]:
    def register(impl: FunctionImpl) -> FunctionImpl:
        FUNCTIONS[name] = (min_args, min_args if max_args is None else max_args, impl)
        return impl
    return register


def _variadic(name: str, impl: FunctionImpl, min_args: int = 1) -> None:
    FUNCTIONS[name] = (min_args, None, impl)


def _flatten(values: tuple[Any, ...]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        flat.extend(_flatten(tuple(value)) if isinstance(value, list) else [value])
    return flat


for _name, _impl in {
    "AND": lambda *a: all(truthy(v) for v in _flatten(a)),
    "OR": lambda *a: any(truthy(v) for v in _flatten(a)),
    "XOR": lambda *a: sum(truthy(v) for v in _flatten(a)) % 2 == 1,
    "CONCATENATE": lambda *a: "".join(to_text(v) for v in a),
    "SUM": lambda *a: sum(to_number(v) for v in _flatten(a)),
    "MAX": lambda *a: max(to_number(v) for v in _flatten(a)),
    "MIN": lambda *a: min(to_number(v) for v in _flatten(a)),
    "AVERAGE": lambda *a: sum(to_number(v) for v in _flatten(a)) / len(_flatten(a)),
    "COUNT": lambda *a: sum(1 for v in _flatten(a) if _numeric(v) and not isinstance(v, bool)),
    "COUNTA": lambda *a: sum(1 for v in _flatten(a) if not is_blank(v)),
    "COUNTALL": lambda *a: len(_flatten(a)),
}.items():
    _variadic(_name, _impl)

for _name, _impl in {
    "BLANK": lambda: None,
    "TRUE": lambda: True,
    "FALSE": lambda: False,
}.items():
    FUNCTIONS[_name] = (0, 0, _impl)


@function("NOT", 1)
def _not(value: Any) -> bool:
    return not truthy(value)


@function("ERROR", 0)
def _error() -> Any:
    raise FormulaRuntimeError("ERROR()")


@function("FIND", 2, 3)
def _find(needle: Any, haystack: Any, start: Any = 1) -> int:
    return to_text(haystack).find(to_text(needle), max(int(to_number(start)) - 1, 0)) + 1


@function("SEARCH", 2, 3)
def _search(needle: Any, haystack: Any, start: Any = 1) -> int | None:
    index = to_text(haystack).lower().find(to_text(needle).lower(), max(int(to_number(start)) - 1, 0))
    return index + 1 if index >= 0 else None


FUNCTIONS.update({
    "LOWER": (1, 1, lambda s: to_text(s).lower()),
    "UPPER": (1, 1, lambda s: to_text(s).upper()),
    "TRIM": (1, 1, lambda s: to_text(s).strip()),
    "LEN": (1, 1, lambda s: len(to_text(s))),
    "T": (1, 1, lambda s: s if isinstance(s, str) else ""),
    "LEFT": (2, 2, lambda s, n: to_text(s)[: int(to_number(n))]),
    "RIGHT": (2, 2, lambda s, n: to_text(s)[len(to_text(s)) - int(to_number(n)):] if int(to_number(n)) else ""),
    "MID": (3, 3, lambda s, start, n: to_text(s)[int(to_number(start)) - 1: int(to_number(start)) - 1 + int(to_number(n))]),
    "REPT": (2, 2, lambda s, n: to_text(s) * int(to_number(n))),
    "VALUE": (1, 1, lambda s: to_number(to_text(s).replace(" ", "").replace(",", "."))),
    "ABS": (1, 1, lambda n: abs(to_number(n))),
    "INT": (1, 1, lambda n: math.floor(to_number(n))),
    "MOD": (2, 2, lambda n, d: math.fmod(to_number(n), to_number(d))),
    "ROUND": (2, 2, lambda n, p: round(to_number(n), int(to_number(p)))),
    "ARRAYJOIN": (1, 2, lambda a, sep=", ": to_text(sep).join(to_text(v) for v in _as_list(a))),
    "ARRAYUNIQUE": (1, 1, lambda a: list(dict.fromkeys(_as_list(a)))),
    "ARRAYCOMPACT": (1, 1, lambda a: [v for v in _as_list(a) if not is_blank(v)]),
    "ARRAYFLATTEN": (1, 1, lambda a: _flatten((a,))),
    "REGEX_MATCH": (2, 2, lambda s, rx: re.search(to_text(rx), to_text(s)) is not None),
    "REGEX_EXTRACT": (2, 2, lambda s, rx: (m.group(0) if (m := re.search(to_text(rx), to_text(s))) else None)),
    "REGEX_REPLACE": (3, 3, lambda s, rx, r: re.sub(to_text(rx), to_text(r), to_text(s))),
    "DATETIME_PARSE": (1, 3, lambda s, fmt=None, _locale=None: (
        s if isinstance(s, dt.datetime) else parse_datetime(to_text(s), to_text(fmt) if fmt else None))),
    "DATESTR": (1, 1, lambda d: to_datetime(d).strftime("%Y-%m-%d")),
    "DATETIME_FORMAT": (1, 2, lambda d, fmt="YYYY-MM-DDTHH:mm:ss.000Z": format_datetime(to_datetime(d), to_text(fmt))),
    "IS_BEFORE": (2, 2, lambda a, b: to_datetime(a) < to_datetime(b)),
    "IS_AFTER": (2, 2, lambda a, b: to_datetime(a) > to_datetime(b)),
    "YEAR": (1, 1, lambda d: to_datetime(d).year),
    "MONTH": (1, 1, lambda d: to_datetime(d).month),
    "DAY": (1, 1, lambda d: to_datetime(d).day),
    "WEEKDAY": (1, 2, lambda d, _start=None: (to_datetime(d).weekday() + 1) % 7),
})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


SECONDS_PER_UNIT = {"milliseconds": 0.001, "ms": 0.001, "seconds": 1, "s": 1, "minutes": 60, "m": 60,
                    "hours": 3600, "h": 3600, "days": 86400, "d": 86400, "weeks": 604800, "w": 604800}


def _unit(value: Any) -> float:
    unit = to_text(value).lower()
    if unit not in SECONDS_PER_UNIT:
        raise FormulaRuntimeError(f"unsupported unit {unit!r}")
    return SECONDS_PER_UNIT[unit]


@function("DATEADD", 3)
def _dateadd(date: Any, count: Any, unit: Any) -> dt.datetime:
    return to_datetime(date) + dt.timedelta(seconds=to_number(count) * _unit(unit))


@function("DATETIME_DIFF", 2, 3)
def _datetime_diff(first: Any, second: Any, unit: Any = "seconds") -> int:
    return int((to_datetime(first) - to_datetime(second)).total_seconds() / _unit(unit))


@function("IS_SAME", 2, 3)
def _is_same(first: Any, second: Any, unit: Any = None) -> bool:
    a, b = to_datetime(first), to_datetime(second)
    if unit is None:
        return a == b
    keys = {"year": 1, "month": 2, "day": 3, "hour": 4, "minute": 5, "second": 6}
    depth = keys.get(to_text(unit).lower().rstrip("s"))
    if depth is None:
        raise FormulaRuntimeError(f"unsupported unit {to_text(unit)!r}")
    return a.timetuple()[:depth] == b.timetuple()[:depth]


# Airtable functions this evaluator knowingly leaves out; named so the caller learns that the
# emulator, not their formula, is the limit.
KNOWN_UNSUPPORTED = {"SET_LOCALE", "SET_TIMEZONE", "WORKDAY", "WORKDAY_DIFF", "WEEKNUM", "FROMNOW",
                     "TONOW", "LAST_MODIFIED_TIME", "ENCODE_URL_COMPONENT", "TIMESTR", "HOUR",
                     "MINUTE", "SECOND", "CEILING", "FLOOR", "EVEN", "ODD", "EXP", "LOG", "POWER",
                     "SQRT", "ROUNDUP", "ROUNDDOWN", "REPLACE", "SUBSTITUTE"}


# --- compilation and evaluation -----------------------------------------------------------

def _walk(node: Any) -> Iterator[Any]:
    yield node
    children: tuple[Any, ...] = ()
    if isinstance(node, Call):
        children = node.args
    elif isinstance(node, BinaryOp):
        children = (node.left, node.right)
    elif isinstance(node, Negate):
        children = (node.operand,)
    for child in children:
        yield from _walk(child)


@dataclass(frozen=True)
class CompiledFormula:
    source: str
    run: Callable[[Context], Any]
    field_names: frozenset[str]  # the fields it reads: only those need evaluating per record

    def matches(self, ctx: Context) -> bool:
        try:
            return truthy(self.run(ctx))
        except (FormulaRuntimeError, ArithmeticError, ValueError, TypeError, re.error):
            return False


def compile_formula(source: str, field_names: set[str]) -> CompiledFormula:
    """Parse and check a formula against the table's field names."""
    try:
        tree = Parser(source).parse()
    except RecursionError:
        raise FormulaSyntaxError("the formula is nested too deeply") from None
    unknown_fields, unknown_functions = [], []
    for node in _walk(tree):
        if isinstance(node, FieldRef) and node.name not in field_names:
            unknown_fields.append(node.name)
        if isinstance(node, Call):
            if node.name in KNOWN_UNSUPPORTED:
                raise FormulaSyntaxError(f"the local Airtable does not support {node.name}()")
            if node.name in CONTEXT_FUNCTIONS:
                bounds: tuple[int, int | None] = (0, 0)
            elif node.name in FUNCTIONS:
                bounds = FUNCTIONS[node.name][:2]
            elif node.name in ("IF", "ISERROR", "SWITCH"):
                bounds = {"IF": (2, 3), "ISERROR": (1, 1), "SWITCH": (3, None)}[node.name]
            else:
                unknown_functions.append(node.name)
                continue
            low, high = bounds
            if len(node.args) < low or (high is not None and len(node.args) > high):
                raise FormulaSyntaxError(f"wrong number of arguments to {node.name}()")
    if unknown_fields:
        raise FormulaSyntaxError("Unknown field names: " + ", ".join(dict.fromkeys(unknown_fields)))
    if unknown_functions:
        raise FormulaSyntaxError("Unknown function names: " + ", ".join(dict.fromkeys(unknown_functions)))
    referenced = frozenset(node.name for node in _walk(tree) if isinstance(node, FieldRef))
    return CompiledFormula(source, to_closure(tree), referenced)


def to_closure(node: Any) -> Callable[[Context], Any]:
    """Turn a syntax tree into nested closures once, so each record costs only the calls."""
    if isinstance(node, Literal):
        value = node.value
        return lambda ctx: value
    if isinstance(node, FieldRef):
        name = node.name
        return lambda ctx: ctx.fields.get(name)
    if isinstance(node, Negate):
        operand = to_closure(node.operand)
        return lambda ctx: -to_number(operand(ctx))
    if isinstance(node, BinaryOp):
        op, left, right = node.op, to_closure(node.left), to_closure(node.right)
        apply = compare if op in Parser.COMPARISONS else arithmetic
        return lambda ctx: apply(op, left(ctx), right(ctx))
    if node.name in CONTEXT_FUNCTIONS:
        return CONTEXT_FUNCTIONS[node.name]
    args = [to_closure(arg) for arg in node.args]
    if node.name == "IF":
        return _if(args)
    if node.name == "ISERROR":
        return _iserror(args[0])
    if node.name == "SWITCH":
        return _switch(args)
    impl = FUNCTIONS[node.name][2]
    return lambda ctx: impl(*[arg(ctx) for arg in args])


def _if(args: list[Callable[[Context], Any]]) -> Callable[[Context], Any]:
    condition, if_true = args[0], args[1]
    if_false = args[2] if len(args) > 2 else (lambda ctx: None)
    return lambda ctx: if_true(ctx) if truthy(condition(ctx)) else if_false(ctx)


def _iserror(expression: Callable[[Context], Any]) -> Callable[[Context], Any]:
    def run(ctx: Context) -> bool:
        try:
            expression(ctx)
        except (FormulaRuntimeError, ArithmeticError, ValueError, TypeError):
            return True
        return False
    return run


def _switch(args: list[Callable[[Context], Any]]) -> Callable[[Context], Any]:
    """SWITCH(expression, pattern, result, …, [default])."""
    expression, pairs = args[0], args[1:]

    def run(ctx: Context) -> Any:
        value = expression(ctx)
        for i in range(0, len(pairs) - 1, 2):
            if equals(value, pairs[i](ctx)):
                return pairs[i + 1](ctx)
        return pairs[-1](ctx) if len(pairs) % 2 else None
    return run
