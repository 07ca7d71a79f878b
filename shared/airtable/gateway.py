"""The one place binome touches the base: pyairtable behind typed records and English names.

- tables are addressed by our record types, labels come from `schemas/`;
- writes go by 10 records per request, the API's maximum;
- every request of the process passes the base's pacer, so bulk work stays under 5 requests/s, and
  a 429 holds the whole process for Airtable's penalty before one more try;
- `sync` reads first and writes only records, and fields, whose values changed;
- failures come out as two typed errors: `AirtableUnavailable` (retry later: 429 after retries,
  5xx, network) and `AirtableRejected` (our request is wrong: 4xx), so callers can map them to
  5xx and to a kept-and-reported error respectively.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, Sequence, TypeVar

import requests
from pyairtable import Api, Table
from pyairtable.formulas import EQ, OR, RECORD_ID, Formula
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from schemas.records import META, AirtableRecord
from shared.airtable.diff import plan_sync
from shared.airtable.budget import shared_pacer_for
from shared.airtable.pacer import Pacer, pacer_for
from shared.errors import BinomeError
from shared.observability.context import AIRTABLE, count_call
from shared.settings import Settings

R = TypeVar("R", bound=AirtableRecord)
IDS_PER_REQUEST = 100  # records asked by id in one request: one page
RECORDS_PER_WRITE = 10  # Airtable's most records in one create, update or upsert
REQUEST_TIMEOUT = (5, 30)  # connect, read (seconds)


def connect_retry() -> Retry:
    """Retry failed connects (the request never reached Airtable), nothing else.

    pyairtable's default also replays any request whose answer was lost (`read` errors), POST
    included; Airtable may have applied it already, so a replay could create a record twice.
    Such failures surface as `AirtableUnavailable` and the caller's own retry path takes over.
    429s are retried by `PacedAdapter`, after the penalty, each try in a pacer slot of its own.
    """
    return Retry(total=3, connect=3, read=0, status=0, other=0, redirect=0, backoff_factor=0.2,
                 allowed_methods=None, raise_on_status=False)


class AirtableError(BinomeError):
    """The base could not do what we asked."""


class AirtableUnavailable(AirtableError):
    """Airtable is down, slow or rate-limiting us: retrying later can succeed."""


RECORD_ID_SHAPE = re.compile(r"^rec[A-Za-z0-9]{14}$")


class AirtableRejected(AirtableError):
    """Airtable refused the request itself (4xx): retrying the same request will not help."""

    def __init__(self, status: int, error: Any):
        super().__init__(f"{status}: {error}")
        self.status = status
        self.error = error


class PacedAdapter(HTTPAdapter):
    """Holds a pacer slot for every request on the wire, and counts them by method.

    A 429 was refused, never applied, so it is safe to send again; but Airtable then refuses the
    base for a penalty, and a request sent during it only prolongs it. The adapter holds the whole
    process's pacer for the penalty, then tries again, at most `penalty_retries` times.
    """

    def __init__(self, pacer: Pacer, counts: collections.Counter[str], penalty: float,
                 penalty_retries: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.pacer = pacer
        self.counts = counts
        self.penalty = penalty
        self.penalty_retries = penalty_retries
        self.penalties = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        for attempt in itertools.count():
            with self.pacer.slot():
                self.counts[request.method or "GET"] += 1
                count_call(AIRTABLE)
                response = super().send(request, *args, **kwargs)
            if response.status_code != 429 or attempt >= self.penalty_retries:
                return response
            self.penalties += 1
            self.pacer.penalise(self.penalty)
            response.close()
        raise AssertionError("unreachable")


@dataclass
class UpsertOutcome(Generic[R]):
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    records: list[R] = field(default_factory=list)  # as Airtable holds them after the write


@dataclass
class SyncOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


class AirtableGateway:
    def __init__(self, settings: Settings, *, pacer: Pacer | None = None, penalty_retries: int = 1):
        self.base_id = settings.AIRTABLE_BASE_ID
        self.api = Api(settings.AIRTABLE_TOKEN, endpoint_url=settings.AIRTABLE_ENDPOINT_URL,
                       timeout=REQUEST_TIMEOUT, retry_strategy=None)
        self.requests: collections.Counter[str] = collections.Counter()
        self.adapter = PacedAdapter(pacer or base_pacer(settings), self.requests, settings.BINOME_AIRTABLE_PENALTY, penalty_retries,
                                    max_retries=connect_retry())
        self.api.session.mount("http://", self.adapter)
        self.api.session.mount("https://", self.adapter)
        self.base = self.api.base(self.base_id)

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    def table(self, model: type[AirtableRecord]) -> Table:
        return self.base.table(model.table_label())

    # --- reading ------------------------------------------------------------------------------

    def all(self, model: type[R], formula: str | Formula | None = None,
            fields: Sequence[str] | None = None, max_records: int | None = None) -> list[R]:
        """Every record of the model's table (matching `formula`, at most `max_records`), as
        typed records. `fields` are attribute names; asking only for what is needed keeps pages small.
        """
        options: dict[str, Any] = {}
        if formula is not None:
            options["formula"] = formula
        if fields:
            options["fields"] = [model.label(name) for name in fields]
        if max_records is not None:
            options["max_records"] = max_records
        with translate_errors():
            return [model.from_airtable(r) for r in self.table(model).all(**options)]

    def first(self, model: type[R], formula: str | Formula) -> R | None:
        with translate_errors():
            found = self.table(model).first(formula=formula)
        return model.from_airtable(found) if found else None

    def by_ids(self, model: type[R], ids: Sequence[str], fields: Sequence[str] | None = None,
               per_request: int = IDS_PER_REQUEST) -> list[R]:
        """The records with these ids (unknown ones left out), `per_request` ids a request."""
        wanted = list(dict.fromkeys(ids))
        found: list[R] = []
        for start in range(0, len(wanted), per_request):
            chunk = wanted[start:start + per_request]
            found += self.all(model, formula=OR(*(EQ(RECORD_ID(), i) for i in chunk)), fields=fields)
        return found

    def get(self, model: type[R], record_id: str) -> R:
        # pyairtable puts the id in the URL as it is: « rec/../../Structures » would fetch another
        # table. Anything but a record id is refused as Airtable refuses an unknown one.
        if not RECORD_ID_SHAPE.match(record_id):
            raise AirtableRejected(404, "NOT_FOUND")
        with translate_errors():
            return model.from_airtable(self.table(model).get(record_id))

    # --- writing ------------------------------------------------------------------------------

    def create(self, records: Sequence[R]) -> list[R]:
        if not records:
            return []
        model = type(records[0])
        with translate_errors():
            created = self.table(model).batch_create([r.to_fields() for r in records])
        return [model.from_airtable(r) for r in created]

    def update(self, records: Sequence[R]) -> list[R]:
        """Write the attributes set on each record, which carries its `record_id`: a partial
        record changes only what it names. 10 records per request."""
        if not records:
            return []
        model = type(records[0])
        changes = [{"id": r.record_id, "fields": r.to_fields()} for r in records]
        with translate_errors():
            updated = self.table(model).batch_update(changes)  # type: ignore[arg-type]
        return [model.from_airtable(r) for r in updated]

    def upsert(self, records: Sequence[R], key: str) -> UpsertOutcome[R]:
        """Create or update by `key` in one request per 10 records, without reading first.

        Airtable applies writes to a base one at a time and creates a record only when none holds
        the key: of several processes upserting one key, exactly one is told it created it.
        """
        if not records:
            return UpsertOutcome()
        model = type(records[0])
        with translate_errors():
            result = self.table(model).batch_upsert(
                [{"fields": r.to_fields()} for r in records], key_fields=[model.label(key)])
        return UpsertOutcome(result["createdRecords"], result["updatedRecords"],
                             [model.from_airtable(r) for r in result["records"]])

    def sync(self, desired: Sequence[R], key: str, existing: Sequence[R] | None = None) -> SyncOutcome:
        """Bring the base in line with `desired`, writing only what changed.

        Reads the table first unless the caller already holds its current state in `existing`.
        """
        if not desired:
            return SyncOutcome()
        model = type(desired[0])
        if existing is None:
            wanted = set().union(*(r.model_fields_set for r in desired)) - META
            existing = self.all(model, fields=sorted(wanted | {key}))
        plan = plan_sync(desired, existing, key)
        created = self.create(plan.creates)
        updated = self.update(plan.updates)
        return SyncOutcome([r.record_id for r in created if r.record_id],
                           [r.record_id for r in updated if r.record_id], plan.unchanged)


def base_pacer(settings: Settings) -> Pacer:
    """The base's budget as this process shares it: with every process through Redis when the
    settings name one (deployed), else with the other gateways of this process only (locally)."""
    base_key = f"{settings.AIRTABLE_ENDPOINT_URL}/{settings.AIRTABLE_BASE_ID}"
    if settings.BINOME_AIRTABLE_BUDGET_URL:
        return shared_pacer_for(settings.BINOME_AIRTABLE_BUDGET_URL, base_key, settings.BINOME_AIRTABLE_RATE,
                                settings.BINOME_AIRTABLE_PRIORITY)
    return pacer_for(base_key, settings.BINOME_AIRTABLE_RATE)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the HTTP client's exceptions into our two typed errors."""
    try:
        yield
    except requests.HTTPError as exc:
        response = exc.response
        status = response.status_code if response is not None else 0
        if status == 429 or status >= 500 or status == 0:
            raise AirtableUnavailable(f"Airtable answered {status}") from exc
        try:
            error = response.json().get("error") if response is not None else None
        except ValueError:
            error = None
        raise AirtableRejected(status, error) from exc
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
        raise AirtableUnavailable(f"Airtable unreachable: {type(exc).__name__}") from exc
