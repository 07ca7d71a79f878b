"""Pages binome serves to people who follow a link from an email: French, readable on a phone,
no JavaScript, every value escaped."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

PAGES = Path(__file__).resolve().parent / "templates" / "pages"


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PAGES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def page(name: str, **context: Any) -> str:
    return environment().get_template(f"{name}.html").render(context)


def message(title: str, text: str) -> str:
    return page("message", title=title, message=text)
