"""The kinds of step a deploy is made of, and how each is shown.

Steps hold no secret: a secret appears as `<secret:NAME>` and a deployed function's address, known
only once it exists, as `<url:NAME>`. The runner fills both in at the last moment, so the printed
plan (and any log of it) can be shared.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

SECRET = re.compile(r"<secret:([A-Z0-9_]+)>")
FUNCTION_URL = re.compile(r"<url:([a-z0-9_]+)>")


def secret(name: str) -> str:
    return f"<secret:{name}>"


def function_url(name: str) -> str:
    return f"<url:{name}>"


@dataclass(frozen=True)
class Command:
    """A command run as is (`gcloud …`, or a module of this tree run with this Python)."""

    argv: tuple[str, ...]
    why: str

    def lines(self) -> list[str]:
        return [shlex.join(self.argv)]


@dataclass(frozen=True)
class CreateOrUpdate:
    """A resource made once and updated afterwards: `probe` (exit 0 when it exists) picks which."""

    probe: tuple[str, ...]
    create: tuple[str, ...]
    update: tuple[str, ...]
    why: str

    def lines(self) -> list[str]:
        return [f"if {shlex.join(self.probe)} >/dev/null 2>&1; then", f"  {shlex.join(self.update)}",
                "else", f"  {shlex.join(self.create)}", "fi"]


@dataclass(frozen=True)
class ApiCall:
    """A call to a vendor's API, made through the vendor's client by `deploy/vendors.py`.

    `action` names the executor; `method`, `url` and `body` are what it sends, as shown.
    """

    action: str
    method: str
    url: str
    body: Mapping[str, Any]
    why: str
    params: Mapping[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"{self.method} {self.url}", json.dumps(self.body, ensure_ascii=False, sort_keys=True)]


Step = Union[Command, CreateOrUpdate, ApiCall]


def render(plan: list[Step]) -> str:
    """The plan as an operator reads it: each step numbered, with why it is there."""
    out = []
    for number, step in enumerate(plan, 1):
        out.append(f"# {number}. {step.why}")
        out.extend(step.lines())
        out.append("")
    return "\n".join(out)


def reveal(value: Any, secrets: Mapping[str, str], urls: Mapping[str, str]) -> Any:
    """`value` with its placeholders replaced (strings anywhere inside lists and dicts)."""
    if isinstance(value, str):
        value = SECRET.sub(lambda m: secrets[m.group(1)], value)
        return FUNCTION_URL.sub(lambda m: urls[m.group(1)], value)
    if isinstance(value, (list, tuple)):
        return type(value)(reveal(item, secrets, urls) for item in value)
    if isinstance(value, Mapping):
        return {key: reveal(item, secrets, urls) for key, item in value.items()}
    return value


def urls_needed(step: Step) -> set[str]:
    """The functions whose address this step needs filled in."""
    text = json.dumps([step.lines()])
    return set(FUNCTION_URL.findall(text))
