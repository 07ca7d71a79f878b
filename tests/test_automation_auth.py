"""Scheduler and automation calls: the automation secret as a bearer token (Airtable automations)
or in `X-Binome-Automation` (the scheduler, whose `Authorization` carries Google's OIDC token for
the private functions); anything else is refused with 401."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shared import http
from shared.settings import isolated_settings, use_settings
from shared.signatures import AUTOMATION_HEADER, verify_automation, verify_secret

SECRET = "automation-secret-for-tests"
GOOGLE_TOKEN = "Bearer eyJhbGciOiJSUzI1NiJ9.oidc.token"


@dataclass
class FakeRequest:
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@pytest.fixture(autouse=True)
def automation_secret():
    previous = use_settings(isolated_settings(AUTOMATION_SECRET=SECRET))
    yield
    use_settings(previous)


def refused_status(headers: dict[str, str], method: str = "POST") -> int | None:
    refused = http.refuse_automation(FakeRequest(headers, method))
    return None if refused is None else refused[1]


def test_an_airtable_automation_sends_the_secret_as_bearer():
    assert refused_status({"Authorization": f"Bearer {SECRET}"}) is None


def test_the_scheduler_sends_its_oidc_token_and_the_secret_in_its_own_header():
    assert refused_status({"Authorization": GOOGLE_TOKEN, AUTOMATION_HEADER: SECRET}) is None


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": GOOGLE_TOKEN}, {"Authorization": GOOGLE_TOKEN, AUTOMATION_HEADER: "wrong"},
    {AUTOMATION_HEADER: ""}, {AUTOMATION_HEADER: f"Bearer {SECRET}"}, {"Authorization": SECRET},
])
def test_anything_else_is_refused(headers):
    assert refused_status(headers) == 401


def test_only_post_is_accepted():
    assert refused_status({AUTOMATION_HEADER: SECRET}, method="GET") == 405


def test_an_empty_secret_verifies_nothing():
    assert not verify_secret("", "") and not verify_secret("", None)
    assert not verify_automation("", "Bearer ", "")
