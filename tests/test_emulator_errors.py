"""Every documented error of the local Airtable, seen through the real client where it can be."""

from __future__ import annotations

import time

import pytest
import requests
from pyairtable import Api

from emulators.ratelimit import PenaltyBox
from tests.conftest import BASE_ID


def error_of(excinfo: pytest.ExceptionInfo) -> tuple[int, object]:
    response = excinfo.value.response
    return response.status_code, response.json()


def test_missing_or_empty_token_is_401(emulator, people):
    url = f"{emulator.airtable_url}/v0/{BASE_ID}/People"
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        response = requests.get(url, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}


def test_more_than_ten_records_per_write_is_422_invalid_records(emulator, people):
    url = f"{emulator.airtable_url}/v0/{BASE_ID}/People"
    headers = {"Authorization": "Bearer t"}
    body = {"records": [{"fields": {"Name": str(i)}} for i in range(11)]}
    for method in ("POST", "PATCH"):
        response = requests.request(method, url, json=body, headers=headers, timeout=5)
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "INVALID_RECORDS"
        assert "maximum of 10 records" in response.json()["error"]["message"]
    ids = [f"rec{i:014d}" for i in range(11)]
    response = requests.delete(url, params={"records[]": ids}, headers=headers, timeout=5)
    assert (response.status_code, response.json()["error"]["type"]) == (422, "INVALID_RECORDS")
    assert people.all() == []


def test_unknown_field_is_422_and_nothing_is_written(people):
    with pytest.raises(requests.HTTPError) as excinfo:
        people.batch_create([{"Name": "ok"}, {"Nmae": "typo"}])
    assert error_of(excinfo) == (422, {"error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nmae"'}})
    assert people.all() == []
    with pytest.raises(requests.HTTPError) as excinfo:
        people.all(fields=["Nope"])
    assert error_of(excinfo)[1]["error"]["type"] == "UNKNOWN_FIELD_NAME"
    with pytest.raises(requests.HTTPError) as excinfo:
        people.all(sort=["Nope"])
    assert error_of(excinfo)[1]["error"]["type"] == "UNKNOWN_FIELD_NAME"


def test_unknown_select_option_without_typecast_is_422(people):
    with pytest.raises(requests.HTTPError) as excinfo:
        people.create({"Level": "Terminale"})
    status, body = error_of(excinfo)
    assert status == 422
    assert body["error"] == {"type": "INVALID_MULTIPLE_CHOICE_OPTIONS",
                             "message": 'Insufficient permissions to create new select option ""Terminale""'}
    with pytest.raises(requests.HTTPError):
        people.create({"Subjects": ["Maths", "Latin"]})
    assert people.all() == []


def test_value_of_the_wrong_type_is_422_invalid_value(people):
    for fields in ({"Age": "douze"}, {"Name": 12}, {"Active": "yes"}, {"Born": "demain"}, {"Subjects": "Maths"}):
        with pytest.raises(requests.HTTPError) as excinfo:
            people.create(fields)
        assert error_of(excinfo)[1]["error"]["type"] == "INVALID_VALUE_FOR_COLUMN", fields


def test_link_to_a_missing_record_is_422(api, people):
    pets = api.base(BASE_ID).table("Pets")
    with pytest.raises(requests.HTTPError) as excinfo:
        pets.create({"Pet": "Rex", "Owner": ["recDoesNotExist1"]})
    status, body = error_of(excinfo)
    assert (status, body["error"]["type"]) == (422, "ROW_DOES_NOT_EXIST")
    assert pets.all() == []


def test_unknown_record_is_404_with_a_bare_string(people):
    for call in (lambda: people.get("recMissingRecord1"), lambda: people.update("recMissingRecord1", {"Age": 1}),
                 lambda: people.delete("recMissingRecord1")):
        with pytest.raises(requests.HTTPError) as excinfo:
            call()
        assert error_of(excinfo) == (404, {"error": "NOT_FOUND"})


def test_batch_update_of_an_unknown_record_is_422(people):
    with pytest.raises(requests.HTTPError) as excinfo:
        people.batch_update([{"id": "recMissingRecord1", "fields": {"Age": 1}}])
    assert error_of(excinfo)[1]["error"]["type"] == "ROW_DOES_NOT_EXIST"


def test_unknown_table_and_base_are_403(api, people):
    for table in (api.table(BASE_ID, "Nope"), api.table("appUnknownBase001", "People")):
        with pytest.raises(requests.HTTPError) as excinfo:
            table.all()
        status, body = error_of(excinfo)
        assert (status, body["error"]["type"]) == (403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND")


def test_unknown_route_is_404(emulator):
    response = requests.get(f"{emulator.airtable_url}/v1/whatever", headers={"Authorization": "Bearer t"}, timeout=5)
    assert (response.status_code, response.json()) == (404, {"error": "NOT_FOUND"})


def test_body_that_is_not_json_is_400(emulator, people):
    response = requests.post(f"{emulator.airtable_url}/v0/{BASE_ID}/People", data=b"{not json",
                             headers={"Authorization": "Bearer t", "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 400
    assert people.all() == []


@pytest.mark.parametrize("formula, fragment", [
    ("{Nope} = 1", "Unknown field names: Nope"),
    ("FOO({Age})", "Unknown function names: FOO"),
    ("{Age} = ", "expected"),
    ("AND({Age} > 1", "expected ')'"),
    ("'unterminated", "unexpected character"),
    ("WORKDAY({Born}, 2)", "does not support WORKDAY"),
    ("LEN()", "wrong number of arguments to LEN"),
])
def test_invalid_formula_is_422_with_a_clear_message(people, formula, fragment):
    with pytest.raises(requests.HTTPError) as excinfo:
        people.all(formula=formula)
    status, body = error_of(excinfo)
    assert (status, body["error"]["type"]) == (422, "INVALID_FILTER_BY_FORMULA")
    assert fragment in body["error"]["message"]


def test_offsets_malformed_and_expired(emulator, people):
    url, headers = f"{emulator.airtable_url}/v0/{BASE_ID}/People", {"Authorization": "Bearer t"}
    bad = requests.get(url, params={"offset": "garbage"}, headers=headers, timeout=5)
    assert (bad.status_code, bad.json()["error"]["type"]) == (422, "INVALID_OFFSET_VALUE")
    gone = requests.get(url, params={"offset": "itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAAA"}, headers=headers, timeout=5)
    assert (gone.status_code, gone.json()["error"]["type"]) == (422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")


def test_upsert_matching_several_records_fails_whole_request(people):
    people.batch_create([{"Email": "twin@x.fr", "Age": 1}, {"Email": "twin@x.fr", "Age": 2}])
    with pytest.raises(requests.HTTPError) as excinfo:
        people.batch_upsert([{"fields": {"Email": "new@x.fr"}}, {"fields": {"Email": "twin@x.fr", "Age": 3}}],
                            key_fields=["Email"])
    assert error_of(excinfo)[0] == 422
    assert sorted(r["fields"]["Age"] for r in people.all()) == [1, 2]


def test_upsert_on_a_field_that_does_not_exist_is_422(people):
    with pytest.raises(requests.HTTPError) as excinfo:
        people.batch_upsert([{"fields": {"Nope": "x"}}], key_fields=["Nope"])
    assert error_of(excinfo)[1]["error"]["type"] == "UNKNOWN_FIELD_NAME"


def test_rate_limit_answers_429_in_airtables_shape_beyond_five_per_second(emulator, people):
    emulator.rate_limit(5)
    url, headers = f"{emulator.airtable_url}/v0/{BASE_ID}/People", {"Authorization": "Bearer t"}
    statuses = [requests.get(url, headers=headers, timeout=5) for _ in range(8)]
    refused = [r for r in statuses if r.status_code == 429]
    assert [r.status_code for r in statuses[:5]] == [200] * 5 and refused
    assert refused[0].json() == {"errors": [{"error": "RATE_LIMIT_REACHED",
                                             "message": "Rate limit exceeded. Please try again later"}]}
    assert "Retry-After" not in refused[0].headers
    emulator.control("POST", "/airtable/config", json={"retry_after": 1})
    assert requests.get(url, headers=headers, timeout=5).headers.get("Retry-After") == "1"


def test_rate_limit_is_per_base(emulator, api, people):
    emulator.rate_limit(5)
    emulator.control("PUT", "/airtable/bases/appOtherBase00001")
    other = api.base("appOtherBase00001").create_table("T", [{"name": "N", "type": "singleLineText"}])
    for _ in range(5):
        people.all()
    other.all()  # a sixth request within the second, but to another base


def test_after_a_429_the_base_is_refused_for_the_penalty(emulator, people):
    emulator.control("POST", "/airtable/config", json={"penalty_seconds": 3600})
    url, headers = f"{emulator.airtable_url}/v0/{BASE_ID}/People", {"Authorization": "Bearer t"}
    emulator.fault(service="airtable", status=429)  # Airtable refuses once…
    assert requests.get(url, headers=headers, timeout=5).status_code == 429
    # …and keeps refusing, though no limit is reached (the test's limit is off)
    assert [requests.get(url, headers=headers, timeout=5).status_code for _ in range(3)] == [429] * 3
    emulator.control("POST", "/airtable/config", json={"penalty": False})
    assert requests.get(url, headers=headers, timeout=5).status_code == 200


def test_a_request_refused_during_the_penalty_starts_it_again():
    now = [0.0]
    box = PenaltyBox(clock=lambda: now[0])
    box.punish("app1", 30)
    now[0] = 29.0
    assert box.serving("app1") and not box.serving("app2")
    box.punish("app1", 30)  # what the gate does for a request refused during the penalty
    now[0] = 58.0
    assert box.serving("app1")
    now[0] = 59.0
    assert not box.serving("app1")


def test_pyairtables_default_retries_run_into_the_penalty(emulator):
    """pyairtable retries a 429 six times within about three seconds; against Airtable's
    30-second penalty (here five) every retry is refused too and prolongs it: a storm that ends
    in failure. This is why binome's gateway waits the penalty out once (`tests/test_gateway.py`)."""
    Api("t", endpoint_url=emulator.airtable_url, retry_strategy=None).base(BASE_ID).create_table(
        "Burst", [{"name": "N", "type": "number", "options": {"precision": 0}}])
    emulator.rate_limit(5)
    emulator.control("POST", "/airtable/config", json={"penalty_seconds": 5})
    table = Api("t", endpoint_url=emulator.airtable_url).table(BASE_ID, "Burst")  # default retry
    with pytest.raises(requests.exceptions.RetryError):
        for i in range(24):
            table.create({"N": i})
    assert emulator.stats()["errors"]["airtable 429"] == 6  # the first refusal and five retries
    emulator.control("POST", "/airtable/config", json={"penalty": False, "rate_limit": None})
    assert len(table.all()) == 5  # what got through before the limit; nothing written twice


def test_injected_faults_apply_to_the_next_requests_only(emulator, people):
    emulator.fault(service="airtable", status=503, count=2)
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as excinfo:
            people.all()
        assert excinfo.value.response.status_code == 503
    assert people.all() == []
    emulator.fault(service="airtable", latency=0.3)
    started = time.monotonic()
    people.all()
    assert time.monotonic() - started >= 0.3


def test_dropped_connection_fault(emulator, people):
    emulator.fault(service="airtable", drop=True)
    with pytest.raises(requests.ConnectionError):
        people.all()
    assert people.all() == []


def test_fault_requests_are_validated(emulator):
    response = requests.post(f"{emulator.url}/_emulator/faults", json={"service": "mailchimp", "status": 500}, timeout=5)
    assert response.status_code == 400
