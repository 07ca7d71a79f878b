"""The local stack and the demo's loading step, end to end on free ports."""

from __future__ import annotations

import os

import pytest
import requests

from emulators import demo
from emulators.stack import LocalStack
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.provision import ensure_local_base, provision
from shared.settings import load_settings


@pytest.fixture
def restored_environment():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_stack_serves_emulators_and_functions_on_free_ports(restored_environment):
    with LocalStack() as stack:
        assert requests.get(f"{stack.emulators.url}/_emulator/health", timeout=5).json()["ok"] is True
        assert requests.get(f"{stack.functions.url}/", timeout=5).json() == {"functions": []}
        assert os.environ["BINOME_EMULATOR_PORT"] == str(stack.emulators.port)
        config = requests.get(f"{stack.emulators.url}/_emulator/config", timeout=5).json()
        assert config["sendgrid_event_url"] == f"{stack.functions.url}/sendgrid_events/"
        assert config["docusign_connect_url"] == f"{stack.functions.url}/docusign_connect/"


def test_demo_sample_loads_once_and_a_second_load_changes_nothing(emulator):
    settings = load_settings(BINOME_EMULATOR_PORT=emulator.server.port, AIRTABLE_BASE_ID="appDemoBase000001")
    ensure_local_base(settings)
    gateway = AirtableGateway(settings, pacer=RequestPacer(limit=1000))
    provision(gateway)

    first = demo.load_sample(gateway)
    second = demo.load_sample(gateway)

    assert {table: len(o.created) for table, o in first.items()} == {
        "Bénévoles": 24, "Structures": 4, "Besoins": 12, "Binômes": 1, "Suivis": 1, "Journal": 1}
    assert all(not o.created and not o.updated for o in second.values())
    lines = demo.summary(gateway)
    assert "- Bénévoles : 24 enregistrement(s)" in lines
