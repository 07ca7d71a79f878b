"""The exact requests our gateway sends, pinned with `responses` against Airtable's real host.

The emulator conformance tests hold the local Airtable to these same shapes, so the real API and
the emulator are checked against one description.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from schemas import options as opt
from schemas.records import Volunteer
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.airtable.pacer import RequestPacer
from shared.settings import isolated_settings

BASE = "appRealBase000001"
TABLE_URL = f"https://api.airtable.com/v0/{BASE}/B%C3%A9n%C3%A9voles"
PENALTY = 0.2  # seconds, standing in for Airtable's 30


@pytest.fixture
def gateway() -> AirtableGateway:
    settings = isolated_settings(AIRTABLE_ENDPOINT_URL="https://api.airtable.com", AIRTABLE_BASE_ID=BASE,
                                 AIRTABLE_TOKEN="patRealLookingToken", BINOME_AIRTABLE_PENALTY=PENALTY)
    return AirtableGateway(settings, pacer=RequestPacer(limit=1000))


def record(i: int, **fields) -> dict:
    return {"id": f"rec{i:014d}", "createdTime": "2020-10-01T00:00:00.000Z",
            "fields": {"Email": f"v{i}@exemple.fr", **fields}}


@responses.activate
def test_upsert_sends_batches_of_ten_with_the_merge_key_and_no_typecast(gateway):
    def answer(request):
        body = json.loads(request.body)
        records = [record(i, **r["fields"]) for i, r in enumerate(body["records"])]
        return 200, {}, json.dumps({"records": records, "createdRecords": [r["id"] for r in records],
                                    "updatedRecords": []})
    responses.add_callback(responses.PATCH, TABLE_URL, callback=answer)

    volunteers = [Volunteer(email=f"v{i}@exemple.fr", levels=[opt.Level.TROISIEME]) for i in range(23)]
    outcome = gateway.upsert(volunteers, key="email")

    assert len(outcome.created) == 23
    assert [len(json.loads(c.request.body)["records"]) for c in responses.calls] == [10, 10, 3]
    first = json.loads(responses.calls[0].request.body)
    assert first == {"records": [{"fields": {"Email": "v0@exemple.fr", "Niveaux": ["3e"]}}] + first["records"][1:],
                     "typecast": False, "returnFieldsByFieldId": False,
                     "performUpsert": {"fieldsToMergeOn": ["Email"]}}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer patRealLookingToken"


@responses.activate
def test_sync_reads_only_the_fields_it_compares_then_patches_only_changes(gateway):
    responses.add(responses.GET, TABLE_URL, json={"records": [record(1, Capacité=1), record(2, Capacité=2)]})
    responses.add(responses.PATCH, TABLE_URL, json={"records": [record(1, Capacité=3)]})

    desired = [Volunteer(email="v1@exemple.fr", capacity=3), Volunteer(email="v2@exemple.fr", capacity=2)]
    outcome = gateway.sync(desired, key="email")

    assert (len(outcome.updated), outcome.unchanged) == (1, 1)
    query = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sorted(query["fields[]"]) == ["Capacité", "Email"]
    assert json.loads(responses.calls[1].request.body) == {
        "records": [{"id": "rec00000000000001", "fields": {"Capacité": 3}}],
        "typecast": False, "returnFieldsByFieldId": False}


@responses.activate
def test_list_follows_offsets_and_filters_by_formula(gateway):
    responses.add(responses.GET, TABLE_URL, json={"records": [record(1)], "offset": "itrA/rec1"})
    responses.add(responses.GET, TABLE_URL, json={"records": [record(2)]})
    found = gateway.all(Volunteer, formula="{Email} = 'v1@exemple.fr'")
    assert [v.email for v in found] == ["v1@exemple.fr", "v2@exemple.fr"]
    second = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert second["offset"] == ["itrA/rec1"] and second["filterByFormula"] == ["{Email} = 'v1@exemple.fr'"]


@responses.activate
def test_a_429_waits_out_the_penalty_once_then_tries_again(gateway):
    responses.add(responses.GET, TABLE_URL, status=429, json={"errors": [{"error": "RATE_LIMIT_REACHED"}]})
    responses.add(responses.GET, TABLE_URL, json={"records": [record(1)]})
    started = time.monotonic()
    assert [v.email for v in gateway.all(Volunteer)] == ["v1@exemple.fr"]
    assert time.monotonic() - started >= PENALTY  # held for the whole penalty, not retried into it
    assert len(responses.calls) == 2 and dict(gateway.requests) == {"GET": 2}


@responses.activate
def test_a_second_429_is_reported_unavailable(gateway):
    responses.add(responses.GET, TABLE_URL, status=429, json={"errors": [{"error": "RATE_LIMIT_REACHED"}]})
    with pytest.raises(AirtableUnavailable):
        gateway.all(Volunteer)
    assert len(responses.calls) == 2  # the first try and one after the penalty: no storm


@responses.activate
def test_both_error_shapes_become_a_typed_rejection(gateway):
    responses.add(responses.GET, f"{TABLE_URL}/recMissing0000001", status=404, json={"error": "NOT_FOUND"})
    responses.add(responses.POST, TABLE_URL, status=422,
                  json={"error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "X"'}})
    with pytest.raises(AirtableRejected) as missing:
        gateway.get(Volunteer, "recMissing0000001")
    assert (missing.value.status, missing.value.error) == (404, "NOT_FOUND")
    with pytest.raises(AirtableRejected) as unknown:
        gateway.create([Volunteer(email="x@exemple.fr")])
    assert unknown.value.error == {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "X"'}
