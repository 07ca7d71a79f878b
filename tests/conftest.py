"""Shared fixtures: one local emulator server for the session, reset before each test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from pyairtable import Api

from emulators.app import create_app
from emulators.server import BackgroundServer, quiet_request_logs
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.settings import Settings, isolated_settings

from tests import netguard

BASE_ID = "appTestBase000001"
DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    netguard.install()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The campaign under fire's figures, when it ran (shown whether output is captured or not)."""
    from tests.test_campaign_under_fire import FIGURES

    if lines := config.stash.get(FIGURES, None):
        terminalreporter.section("campagne sous le feu")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def stays_on_loopback() -> Iterator[None]:
    """Fail any test during which something tried to reach beyond loopback."""
    before = len(netguard.leaks)
    yield
    assert netguard.leaks[before:] == [], "a test reached beyond loopback"


def sample_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass
class Emulator:
    server: BackgroundServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def airtable_url(self) -> str:
        return f"{self.url}/airtable"

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_emulator{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def rate_limit(self, per_second: float | None) -> None:
        self.control("POST", "/airtable/config", json={"rate_limit": per_second})

    def fault(self, **spec: Any) -> None:
        self.control("POST", "/faults", json=spec)

    def stats(self) -> dict[str, dict[str, int]]:
        return self.control("GET", "/stats")


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[BackgroundServer]:
    quiet_request_logs()
    with BackgroundServer(create_app(time_scale=1e-4)) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: BackgroundServer) -> Emulator:
    """A clean emulator holding one empty base, rate limit off unless a test turns it on."""
    emu = Emulator(emulator_server)
    emu.control("POST", "/reset")
    emu.rate_limit(None)
    emu.control("PUT", f"/airtable/bases/{BASE_ID}", json={"name": "tests"})
    return emu


@pytest.fixture
def api(emulator: Emulator) -> Api:
    """The real pyairtable client, without retries so every error surfaces."""
    return Api("patTestToken", endpoint_url=emulator.airtable_url, retry_strategy=None)


@pytest.fixture
def settings(emulator: Emulator) -> Settings:
    return isolated_settings(BINOME_EMULATOR_PORT=emulator.server.port, AIRTABLE_BASE_ID=BASE_ID)


@pytest.fixture
def gateway(settings: Settings) -> AirtableGateway:
    """Our gateway with a pacer of its own, fast unless a test paces at Airtable's real limit."""
    return AirtableGateway(settings, pacer=RequestPacer(limit=1000))


def envelopes_api(emulator_url: str):
    """The real DocuSign client pointed at the local stand-in, with its static local token."""
    from docusign_esign import ApiClient, EnvelopesApi

    client = ApiClient(host=f"{emulator_url}/docusign/restapi")
    client.set_default_header("Authorization", "Bearer local-token")
    return EnvelopesApi(client)


PEOPLE_FIELDS = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Email", "type": "email"},
    {"name": "Age", "type": "number", "options": {"precision": 0}},
    {"name": "Score", "type": "number", "options": {"precision": 2}},
    {"name": "Active", "type": "checkbox", "options": {"icon": "check", "color": "greenBright"}},
    {"name": "Level", "type": "singleSelect", "options": {"choices": [{"name": "6e"}, {"name": "5e"}]}},
    {"name": "Subjects", "type": "multipleSelects",
     "options": {"choices": [{"name": "Maths"}, {"name": "Français"}, {"name": "Anglais"}]}},
    {"name": "Born", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
    {"name": "Seen", "type": "dateTime", "options": {"timeZone": "Europe/Paris",
                                                     "dateFormat": {"name": "iso"},
                                                     "timeFormat": {"name": "24hour"}}},
    {"name": "Notes", "type": "multilineText"},
]


@pytest.fixture
def people(api: Api) -> Any:
    """A table with one field of each common type, and a `Pets` table linked to it."""
    base = api.base(BASE_ID)
    table = base.create_table("People", PEOPLE_FIELDS)
    pets = base.create_table("Pets", [{"name": "Pet", "type": "singleLineText"}])
    pets.create_field("Owner", "multipleRecordLinks", options={"linkedTableId": table.id})
    return table


@pytest.fixture(scope="session")
def running_stack():
    from tests.stack import running_stack as start

    yield from start()


@pytest.fixture
def live(running_stack):
    """The running stack, reset to an empty provisioned base with the forms published."""
    running_stack.reset()
    return running_stack
