"""Every email binome sends, from the templates in `shared/templates/mail/`: one look, an HTML body
and its plain-text twin, in French. Pure: names and data in, subject and bodies out.

Each email is a pair `<name>.html` / `<name>.txt` extending `layout.*`; each sets `subject`.
HTML is escaped automatically, so an answer typed into a form can never inject markup.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
COLLECTIVE = "Le collectif binome"


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def hours(value: float) -> str:
    """1.5 → « 1 h 30 », as people write it."""
    whole, minutes = int(value), round((value - int(value)) * 60)
    return f"{whole} h {minutes:02d}" if minutes else f"{whole} h"


@functools.lru_cache(maxsize=2)
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["hours"] = hours
    return env


def render(name: str, **context: Any) -> Rendered:
    """The email `name` rendered with `context` (a missing value is an error, never a blank)."""
    context = {"collective": COLLECTIVE, **context}
    html = environment(True).get_template(f"{name}.html")
    text = environment(False).get_template(f"{name}.txt")
    subject = str(getattr(html.make_module(context), "subject"))  # each email sets it
    body_html = html.render(context)
    body_text = text.render(context).strip() + "\n"
    return Rendered(subject=subject, html=body_html, text=body_text)


def names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.stem.startswith(("_", "layout")))
