"""Log records as Cloud Logging's structured JSON, one object per line on stdout.

Cloud Functions (gen2, on Cloud Run) parses each JSON line of stdout into a log entry: `severity`,
`message`, `time`, `logging.googleapis.com/trace` (which links the line to the request and its
other lines), `logging.googleapis.com/spanId`, `logging.googleapis.com/labels`; any other key stays
in `jsonPayload`, where it can be queried. Installed once per process by the composition root.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

from shared.observability import context
from shared.observability.redaction import install_redaction

SEVERITIES = ((logging.CRITICAL, "CRITICAL"), (logging.ERROR, "ERROR"), (logging.WARNING, "WARNING"),
              (logging.INFO, "INFO"), (logging.DEBUG, "DEBUG"))
FIELDS = "fields"  # the `extra` key under which a record carries its own JSON fields
TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
SAMPLED = "logging.googleapis.com/trace_sampled"
LABELS = "logging.googleapis.com/labels"
SOURCE = "logging.googleapis.com/sourceLocation"


def severity(level: int) -> str:
    """Cloud Logging's severity for a logging level (a custom level takes the one below it)."""
    return next((name for floor, name in SEVERITIES if level >= floor), "DEFAULT")


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, in the shape Cloud Logging reads from stdout."""

    def __init__(self, project: str = ""):
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"severity": severity(record.levelno), "message": self.text(record),
                                 "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
                                 "logger": record.name,
                                 SOURCE: {"file": record.pathname, "line": str(record.lineno),
                                          "function": record.funcName}}
        entry.update(getattr(record, FIELDS, None) or {})
        request = context.current()
        if request is not None:
            entry[LABELS] = {"function": request.function}
            entry.update(self.trace_fields(request.trace))
        return json.dumps(entry, ensure_ascii=False, default=str)

    def text(self, record: logging.LogRecord) -> str:
        """The message, then the traceback: Error Reporting reads a stack trace in `message`."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            message = f"{message}\n{record.exc_text}"
        if record.stack_info:
            message = f"{message}\n{self.formatStack(record.stack_info)}"
        return message

    def trace_fields(self, trace: context.Trace | None) -> dict[str, Any]:
        if trace is None:
            return {}
        # Without the project the trace cannot be linked; its id is still worth a query.
        fields: dict[str, Any] = ({TRACE: f"projects/{self.project}/traces/{trace.trace_id}"} if self.project
                                  else {"trace_id": trace.trace_id})
        if trace.span_id:
            fields[SPAN] = trace.span_id
        fields[SAMPLED] = trace.sampled
        return fields


class TextFormatter(logging.Formatter):
    """For a person reading a local terminal: the usual line, the summary's fields after it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, FIELDS, None) or {}
        line = super().format(record)
        return line + "".join(f" {key}={value}" for key, value in fields.items()) if fields else line


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when a record comes, not when the handler was made, so a
    test capturing stdout (or a runner redirecting it) gets the lines."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def install(json_lines: bool, project: str = "", level: int = logging.INFO) -> logging.Handler:
    """Send the process's logs to stdout, redacted, as JSON lines (or text), replacing the handler
    an earlier call installed."""
    install_redaction()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "binome", False)]:
        root.removeHandler(handler)
    handler = StdoutHandler()
    handler.setFormatter(CloudLoggingFormatter(project) if json_lines else TextFormatter())
    handler.binome = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
