"""How fast the local Airtable answers, next to the limit the real one imposes.

On a 10,000-record table, with the emulator's rate limit off so its own capacity shows:
- batch writes (10 records per request) and list pages (100 records per request), in requests/s,
  each set against Airtable's 5 requests/s per base;
- the cost of `filterByFormula`: a formula listing against a plain listing of the same table;
- the gateway's request counts for a 1,000-record bulk write and an identical second sync.
"""

from __future__ import annotations

import time

import requests
from pyairtable import Api

from emulators.app import create_app
from emulators.server import BackgroundServer, quiet_request_logs
from schemas import options as opt
from schemas.records import Volunteer
from shared.airtable import AirtableGateway
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND, RequestPacer
from local.emulator import EmulatorControl
from shared.provision import provision
from shared.settings import isolated_settings

BASE_ID = "appBenchBase00001"
RECORDS = 10_000
FIELDS = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Email", "type": "email"},
    {"name": "Age", "type": "number", "options": {"precision": 0}},
    {"name": "Subjects", "type": "multipleSelects",
     "options": {"choices": [{"name": s.value} for s in opt.Subject]}},
]
SUBJECTS = [s.value for s in opt.Subject]


def timed(action) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def report(label: str, requests_made: int, seconds: float) -> None:
    rate = requests_made / seconds
    print(f"  {label:<44} {requests_made:>5} req in {seconds:6.2f} s = {rate:7.1f} req/s "
          f"({rate / AIRTABLE_REQUESTS_PER_SECOND:5.1f}× Airtable's limit)")


def bench_records(url: str) -> None:
    table = Api("bench", endpoint_url=f"{url}/airtable", retry_strategy=None).base(BASE_ID).create_table(
        "People", FIELDS)
    rows = [{"Name": f"Person {i}", "Email": f"p{i}@example.org", "Age": i % 90,
             "Subjects": [SUBJECTS[i % len(SUBJECTS)], SUBJECTS[(i * 7) % len(SUBJECTS)]]} for i in range(RECORDS)]
    seconds, _ = timed(lambda: table.batch_create(rows))
    report(f"batch create, {RECORDS:,} records by 10", RECORDS // 10, seconds)

    seconds, pages = timed(lambda: list(table.iterate(page_size=100)))
    report(f"list, {RECORDS:,} records by pages of 100", len(pages), seconds)  # type: ignore[arg-type]

    formula = "AND({Age} >= 30, FIND('Mathématiques', {Subjects}), LOWER({Name}) != 'nobody')"
    repeats = 20
    # The first page of a filtered listing evaluates the formula on every record (the later pages
    # come from that snapshot), so it is the full cost of a formula over the table.
    plain, _ = timed(lambda: [next(table.iterate(page_size=100)) for _ in range(repeats)])
    filtered, _ = timed(lambda: [next(table.iterate(formula=formula, page_size=100)) for _ in range(repeats)])
    print(f"  filterByFormula, full scan of {RECORDS:,} records: {filtered / repeats * 1000:6.1f} ms per request "
          f"vs {plain / repeats * 1000:6.1f} ms unfiltered ({filtered / plain:4.1f}×); "
          f"still {repeats / filtered / AIRTABLE_REQUESTS_PER_SECOND:4.1f}× Airtable's limit")

    lookups = 200
    seconds, _ = timed(lambda: [table.first(formula=f"{{Email}} = 'p{i * 37}@example.org'") for i in range(lookups)])
    print(f"  lookup by email (first(), formula) over {RECORDS:,} records: {seconds / lookups * 1000:6.1f} ms "
          f"per request = {lookups / seconds / AIRTABLE_REQUESTS_PER_SECOND:5.1f}× Airtable's limit")

    changes = [{"id": r["id"], "fields": {"Age": 1}} for page in pages[:10] for r in page]  # type: ignore[index]
    seconds, _ = timed(lambda: table.batch_update(changes))
    report("batch update, 1,000 records by 10", len(changes) // 10, seconds)


def bench_gateway(url: str, port: int) -> None:
    settings = isolated_settings(BINOME_EMULATOR_PORT=port, AIRTABLE_BASE_ID="appBenchGateway01")
    EmulatorControl(url).ensure_base(settings.AIRTABLE_BASE_ID)
    setup = AirtableGateway(settings, pacer=RequestPacer(limit=1000))
    provision(setup)
    requests.post(f"{url}/_emulator/airtable/config", json={"rate_limit": 5}, timeout=5).raise_for_status()
    gateway = AirtableGateway(settings, pacer=RequestPacer())
    people = [Volunteer(full_name=f"B {i}", email=f"b{i}@exemple.fr", capacity=1 + i % 3) for i in range(1000)]
    seconds, _ = timed(lambda: gateway.upsert(people, key="email"))
    writes = dict(gateway.requests)
    gateway.requests.clear()
    again_seconds, outcome = timed(lambda: gateway.sync(people, key="email"))
    errors = requests.get(f"{url}/_emulator/stats", timeout=5).json()["errors"]
    print(f"  gateway bulk upsert of 1,000 records: {writes} in {seconds:.1f} s "
          f"(ceiling at 5 req/s: {sum(writes.values()) / 5:.1f} s); "
          f"identical second sync: {dict(gateway.requests)} in {again_seconds:.1f} s, "
          f"{outcome.unchanged} unchanged; 429 answers: {errors.get('airtable 429', 0)}")  # type: ignore[attr-defined]


def main() -> None:
    quiet_request_logs()
    print("Local Airtable (emulator in-process, memory store, rate limit off for capacity):")
    with BackgroundServer(create_app(airtable_rate_limit=None)) as server:
        requests.put(f"{server.url}/_emulator/airtable/bases/{BASE_ID}", timeout=5).raise_for_status()
        bench_records(server.url)
        print("Gateway against the emulator with Airtable's 5 requests/s limit on:")
        bench_gateway(server.url, server.port)


if __name__ == "__main__":
    main()
