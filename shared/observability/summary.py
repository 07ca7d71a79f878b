"""One summary line per request, from the decorator every entry point wears.

The line says which function answered, to which method, with what status and outcome, how long it
took, and how many requests it made to Airtable, SendGrid and DocuSign; never the body, never a
header but the trace. A request that fails on our side (500, or an exception) also leaves a
Journal entry « Erreur », unless the library already left one for it, so a coordinator sees it.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, TypeVar

from shared import bootstrap, http
from shared.observability import context
from shared.observability.logs import FIELDS

log = logging.getLogger("binome.requests")
Entry = TypeVar("Entry", bound=Callable[[Any], Any])
RETRY_LATER = 503  # a vendor unavailable or an event ahead of its record: the sender retries, nothing is lost


def observed(entry: Entry) -> Entry:
    """Wrap an HTTP entry point: its requests run in a context of their own and end with one line."""
    name = entry.__name__

    @functools.wraps(entry)
    def wrapper(request: Any) -> Any:
        bootstrap.logs()
        trace = context.parse_trace(request.headers.get(context.TRACE_HEADER),
                                    request.headers.get(context.TRACEPARENT_HEADER))
        request_context = context.RequestContext(name, trace)
        token = context.enter(request_context)
        started = time.perf_counter()
        try:
            # Before the entry point, so that none parses an oversized form or body (links, automations).
            result = http.too_large() if http.declared_too_large(request) else entry(request)
        except Exception:
            elapsed = time.perf_counter() - started
            journal_failure(request_context, "exception non rattrapée")
            summarise(request_context, request.method, 500, elapsed, crashed=True)
            raise
        else:
            status = status_of(result)
            if status >= 500 and status != RETRY_LATER:
                journal_failure(request_context, f"réponse {status}")
            summarise(request_context, request.method, status, time.perf_counter() - started)
            return result
        finally:
            context.leave(token)

    return wrapper  # type: ignore[return-value]


def status_of(result: Any) -> int:
    """The status code of what a function returned (a Response, a tuple, or a body alone)."""
    if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], int):
        return result[1]
    return int(getattr(result, "status_code", 200))


def outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "refused"
    if status == RETRY_LATER:
        return "retry_later"
    return "client_error" if status < 500 else "failed"


def summarise(request: context.RequestContext, method: str, status: int, elapsed: float,
              crashed: bool = False) -> None:
    fields = {"function": request.function, "method": method, "status": status,
              "outcome": "crashed" if crashed else outcome(status), "duration_ms": round(elapsed * 1000),
              "airtable_requests": request.calls[context.AIRTABLE],
              "sendgrid_calls": request.calls[context.SENDGRID],
              "docusign_calls": request.calls[context.DOCUSIGN]}
    level = logging.ERROR if status >= 500 and status != RETRY_LATER else (
        logging.WARNING if status >= 400 else logging.INFO)
    log.log(level, "%s %s %s in %d ms", request.function, method, status, fields["duration_ms"],
            exc_info=crashed, extra={FIELDS: fields})


def journal_failure(request: context.RequestContext, what: str) -> None:
    """Leave the request's failure in the Journal, unless the library did; if the Journal cannot
    be written (Airtable down), the log line is all there is."""
    if request.failure_journaled:
        return
    try:
        bootstrap.journal().failure(request.function, request.request_id, what,
                                    request.trace.trace_id if request.trace else None)
    except Exception:
        log.exception("could not journal the failure of %s", request.function)
