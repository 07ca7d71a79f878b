"""What the process knows about the request it is serving: which function, its trace, and the
vendor calls made for it so far.

The context lives in a context variable, so the counts are per request even when a process serves
several at once (functions-framework runs threads): each thread sees only its own request. Work
handed to another thread without copying the context (none in `shared/` today) would not be
counted.
"""

from __future__ import annotations

import collections
import contextvars
import re
import uuid
from dataclasses import dataclass, field

TRACE_HEADER = "X-Cloud-Trace-Context"
TRACEPARENT_HEADER = "traceparent"
# TRACE_ID/SPAN_ID;o=OPTIONS, span id in decimal (Google's header).
CLOUD_TRACE = re.compile(r"^\s*([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?")
# 00-TRACE_ID-SPAN_ID-FLAGS, span id in hex (W3C Trace Context).
W3C_TRACE = re.compile(r"^\s*00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")

AIRTABLE = "airtable"
SENDGRID = "sendgrid"
DOCUSIGN = "docusign"


@dataclass(frozen=True)
class Trace:
    trace_id: str
    span_id: str | None = None  # 16 hex digits, as Cloud Logging wants it
    sampled: bool = False


def parse_trace(cloud_trace: str | None, traceparent: str | None = None) -> Trace | None:
    """The trace a request belongs to, from Google's header or else the W3C one."""
    if cloud_trace and (match := CLOUD_TRACE.match(cloud_trace)):
        span = f"{int(match[2]):016x}" if match[2] else None
        return Trace(match[1].lower(), span, match[3] == "1")
    if traceparent and (match := W3C_TRACE.match(traceparent)):
        return Trace(match[1], match[2], int(match[3], 16) & 1 == 1)
    return None


@dataclass
class RequestContext:
    function: str
    trace: Trace | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    failure_journaled: bool = False  # the library already left an « Erreur » entry for this request


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("binome_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def enter(context: RequestContext) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def leave(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def count_call(service: str) -> None:
    """One request made to `service` on behalf of the current request (none outside a request)."""
    context = _current.get()
    if context is not None:
        context.calls[service] += 1


def note_failure_journaled() -> None:
    context = _current.get()
    if context is not None:
        context.failure_journaled = True
