"""HTTP routes of the local Airtable (Web API v0 and Meta API), under `/airtable`.

Every request goes through the same gate, in Airtable's order: bearer token (401), injected
faults, the per-base rate limit and its penalty (429), then the base and table lookups (403).
"""

from __future__ import annotations

import collections
import json
import re
import threading
from typing import Any, Callable

from flask import Blueprint, Response, request

from emulators.airtable.errors import ApiError, invalid_request, model_not_found
from emulators.airtable.meta import Meta
from emulators.airtable.records import Records
from emulators.airtable.store import Base, Store, Table
from emulators.faults import FaultBoard
from emulators.http import apply_fault, bearer_token, json_response
from emulators.ratelimit import PenaltyBox, SlidingWindowLimit

SORT_PARAM = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")
PENALTY_SECONDS = 30  # nominal: how long Airtable refuses a base after a 429
LIST_OPTIONS = ("pageSize", "maxRecords", "offset", "filterByFormula", "view", "cellFormat",
                "timeZone", "userLocale", "returnFieldsByFieldId")


class AirtableConfig:
    """The rate limit (per base) and the penalty after a 429, on by default; the penalty lasts
    30 nominal seconds, compressed like every other delay of the stand-ins by `time_scale()`,
    unless `penalty_seconds` sets it in real seconds. `refused` counts the 429s it gave by cause: over
    the limit (a client that does not pace itself), or during a penalty; injected ones are the fault
    board's."""

    def __init__(self, rate_limit: float | None = 5.0, retry_after: int | None = None,
                 time_scale: Callable[[], float] = lambda: 1.0):
        self.initial_rate_limit = rate_limit
        self.limit = SlidingWindowLimit(rate_limit)
        self.retry_after = retry_after
        self.time_scale = time_scale
        self.penalty = True
        self.penalty_seconds: float | None = None
        self.box = PenaltyBox()
        self._counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self._counts_lock = threading.Lock()
        self.refused = {"limit": 0, "penalty": 0}

    def _refuse(self, cause: str, base_id: str) -> bool:
        with self._counts_lock:
            self.refused[cause] += 1
        self.punish(base_id)
        return False

    def admit(self, base_id: str) -> bool:
        """Count a request to `base_id`, or refuse it (and start the penalty)."""
        admitted = self._admit(base_id)
        with self._counts_lock:
            self._counts[base_id]["requests" if admitted else "429"] += 1
        return admitted

    def _admit(self, base_id: str) -> bool:
        if self.penalty and self.box.serving(base_id):
            return self._refuse("penalty", base_id)
        if self.limit.allow(base_id):
            return True
        return self._refuse("limit", base_id)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per base: the requests served and those refused with a 429 (Airtable's limit is per base)."""
        with self._counts_lock:
            return {base: {"requests": c["requests"], "429": c["429"]} for base, c in sorted(self._counts.items())}

    def punish(self, base_id: str) -> None:
        if self.penalty:
            self.box.punish(base_id, self.effective_penalty())

    def effective_penalty(self) -> float:
        if self.penalty_seconds is not None:
            return self.penalty_seconds
        return PENALTY_SECONDS * self.time_scale()

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        if "rate_limit" in body:
            self.limit = SlidingWindowLimit(float(body["rate_limit"]) if body["rate_limit"] else None)
        if "retry_after" in body:
            self.retry_after = int(body["retry_after"]) if body["retry_after"] is not None else None
        if "penalty" in body:
            self.penalty = bool(body["penalty"])
        if "penalty_seconds" in body:
            self.penalty_seconds = float(body["penalty_seconds"]) if body["penalty_seconds"] is not None else None
        self.box.clear()
        return self.as_dict()

    def reset(self) -> None:
        with self._counts_lock:
            self._counts.clear()
            self.refused = {"limit": 0, "penalty": 0}
        self.update({"rate_limit": self.initial_rate_limit, "retry_after": None, "penalty": True,
                     "penalty_seconds": None})

    def as_dict(self) -> dict[str, Any]:
        return {"rate_limit": self.limit.per_second, "retry_after": self.retry_after, "penalty": self.penalty,
                "penalty_seconds": self.effective_penalty(), "refused": dict(self.refused)}


def airtable_blueprint(store: Store, records: Records, meta: Meta, faults: FaultBoard,
                       config: AirtableConfig) -> Blueprint:
    bp = Blueprint("airtable", __name__, url_prefix="/airtable")

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = json_response(exc.body, exc.status)
        if exc.status == 429 and config.retry_after is not None:
            response.headers["Retry-After"] = str(config.retry_after)
        return response

    @bp.before_request
    def _gate() -> Response | None:
        if not bearer_token():
            raise ApiError.typed(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        base_id = (request.view_args or {}).get("base_id", "")
        fault = apply_fault(faults, "airtable", fault_body)
        if fault is not None:
            if fault.status_code == 429 and base_id:
                config.punish(base_id)  # a 429 is a 429: the penalty follows
            return fault
        if base_id and not config.admit(base_id):
            raise ApiError.rate_limited()
        return None

    def locked(handler: Callable[..., Any]) -> Callable[..., Response]:
        """Resolve base and table, run the handler inside one store transaction, answer JSON."""
        def wrapper(base_id: str, table: str | None = None, **kwargs: Any) -> Response:
            with store.transaction():
                base = store.bases.get(base_id)
                if base is None:
                    raise model_not_found()
                args: list[Any] = [base]
                if table is not None:
                    found = base.table(table)
                    if found is None:
                        raise model_not_found()
                    args.append(found)
                return json_response(handler(*args, **kwargs))
        wrapper.__name__ = handler.__name__
        return wrapper

    # --- records ------------------------------------------------------------------------------

    @bp.get("/v0/<base_id>/<table>")
    @locked
    def list_records(base: Base, table: Table) -> Any:
        return records.list(base, table, query_list_params())

    @bp.post("/v0/<base_id>/<table>/listRecords")
    @locked
    def list_records_post(base: Base, table: Table) -> Any:
        body = json_body()
        params = {k: body[k] for k in LIST_OPTIONS if k in body}
        params.update({k: v for k, v in request.args.items() if k in ("timeZone", "userLocale")})
        params["fields"] = body.get("fields")
        params["sort"] = body.get("sort")
        return records.list(base, table, params)

    @bp.get("/v0/<base_id>/<table>/<record_id>")
    @locked
    def get_record(base: Base, table: Table, record_id: str) -> Any:
        return records.get(base, table, record_id, request.args)

    @bp.post("/v0/<base_id>/<table>")
    @locked
    def create_records(base: Base, table: Table) -> Any:
        return records.create(base, table, json_body())

    @bp.route("/v0/<base_id>/<table>", methods=["PATCH", "PUT"])
    @locked
    def update_records(base: Base, table: Table) -> Any:
        return records.update_many(base, table, json_body(), replace=request.method == "PUT")

    @bp.route("/v0/<base_id>/<table>/<record_id>", methods=["PATCH", "PUT"])
    @locked
    def update_record(base: Base, table: Table, record_id: str) -> Any:
        return records.update_one(base, table, record_id, json_body(), replace=request.method == "PUT")

    @bp.delete("/v0/<base_id>/<table>")
    @locked
    def delete_records(base: Base, table: Table) -> Any:
        ids = request.args.getlist("records[]") or request.args.getlist("records")
        if not ids:
            raise invalid_request("records[] must list the ids to delete")
        return {"records": records.delete(base, table, ids)}

    @bp.delete("/v0/<base_id>/<table>/<record_id>")
    @locked
    def delete_record(base: Base, table: Table, record_id: str) -> Any:
        return records.delete(base, table, [record_id])[0]

    # --- meta ---------------------------------------------------------------------------------

    @bp.get("/v0/meta/bases/<base_id>/tables")
    @locked
    def get_schema(base: Base) -> Any:
        return meta.schema(base, request.args.getlist("include"))

    @bp.post("/v0/meta/bases/<base_id>/tables")
    @locked
    def create_table(base: Base) -> Any:
        return meta.create_table(base, json_body())

    @bp.patch("/v0/meta/bases/<base_id>/tables/<table>")
    @locked
    def update_table(base: Base, table: Table) -> Any:
        return meta.update_table(base, table, json_body())

    @bp.post("/v0/meta/bases/<base_id>/tables/<table>/fields")
    @locked
    def create_field(base: Base, table: Table) -> Any:
        return meta.create_field(base, table, json_body())

    @bp.patch("/v0/meta/bases/<base_id>/tables/<table>/fields/<field_id>")
    @locked
    def update_field(base: Base, table: Table, field_id: str) -> Any:
        return meta.update_field(table, field_id, json_body())

    @bp.route("/<path:_unknown>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    def unknown_route(_unknown: str) -> Response:
        raise ApiError.not_found()

    return bp


def fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return ApiError.rate_limited().body
    return {"error": {"type": "SERVER_ERROR" if status >= 500 else "INVALID_REQUEST_UNKNOWN",
                      "message": f"Injected fault {status}"}}


def json_body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError.typed(400, "INVALID_REQUEST_BODY", "Could not parse the request body as JSON") from None
    if not isinstance(body, dict):
        raise ApiError.typed(400, "INVALID_REQUEST_BODY", "The request body must be a JSON object")
    return body


def query_list_params() -> dict[str, Any]:
    """pyairtable's query-string forms: `fields[]`, `sort[n][field|direction]`, plain options."""
    args = request.args
    params: dict[str, Any] = {k: args[k] for k in LIST_OPTIONS if k in args}
    params["fields"] = args.getlist("fields[]") or args.getlist("fields")
    rules: dict[int, dict[str, str]] = {}
    for key, value in args.items(multi=True):
        if match := SORT_PARAM.match(key):
            rules.setdefault(int(match.group(1)), {})[match.group(2)] = value
    params["sort"] = [rules[i] for i in sorted(rules)]
    return params
