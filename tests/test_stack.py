"""The local stack, and the demo's campaign through it, end to end on free ports."""

from __future__ import annotations

import collections

import requests

from local.campaign import Campaign
from local.stack import LocalStack
from schemas.records import JournalEntry, Need, Volunteer
from shared import geo
from shared.settings import get_settings, isolated_settings


def test_stack_serves_emulators_and_functions_on_free_ports():
    with LocalStack(isolated_settings()) as stack:
        assert requests.get(f"{stack.emulators.url}/_emulator/health", timeout=5).json()["ok"] is True
        import main
        assert requests.get(f"{stack.functions.url}/", timeout=5).json() == {
            "functions": [f"/{name}/" for name in main.ENTRY_POINTS]}
        assert get_settings() is stack.settings  # the functions of this process serve the stack's settings
        assert stack.settings.AIRTABLE_ENDPOINT_URL == f"{stack.emulators.url}/airtable"
        config = requests.get(f"{stack.emulators.url}/_emulator/config", timeout=5).json()
        assert config["sendgrid_event_url"] == f"{stack.functions.url}/sendgrid_events/"
        assert config["docusign_connect_url"] == f"{stack.functions.url}/docusign_connect/"


def test_a_slice_of_the_demo_campaign_lands_whole(live):
    campaign = Campaign(seed=7)
    volunteers, structures = campaign.volunteers(30), campaign.structures(5)
    for answers in volunteers:
        live.submit("volunteer", answers)
    for answers in structures:
        live.submit("structure", answers)
    live.settle()
    statuses = collections.Counter(e.status for e in live.gateway.all(JournalEntry) if e.source == "Typeform")
    assert statuses == {"Traité": 35}
    assert len(live.control("GET", "/outbox")["messages"]) == 35  # one acknowledgement each
    assert len(live.control("GET", "/envelopes")["envelopes"]) == 35  # one document to sign each
    assert len(live.gateway.all(Volunteer)) == 30
    assert len(live.gateway.all(Need)) == sum(s["pupil_count"] for s in structures)


def test_campaign_people_are_distinct_and_placed_in_france():
    campaign = Campaign()
    volunteers = campaign.volunteers(2000)
    assert len({v["email"] for v in volunteers}) == 2000
    assert all(geo.communes(v["postcode"]) for v in volunteers)
    assert len({v["postcode"][:2] for v in volunteers}) > 60  # spread across départements
