"""A file store keeps every stand-in's state across a restart (`make demo`, then `make run`)."""

from __future__ import annotations

import requests
from docusign_esign import EnvelopeDefinition, TemplateRole
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from emulators.app import create_app
from emulators.server import BackgroundServer
from tests.conftest import envelopes_api
from tests.test_emulator_typeform import ANSWERS, FORM

ACCOUNT = "00000000-0000-4000-8000-00000000b1a0"
AUTH = {"Authorization": "Bearer t"}


def test_typeform_sendgrid_and_docusign_state_survive_a_restart(tmp_path):
    db = str(tmp_path / "emulators.sqlite3")
    with BackgroundServer(create_app(db_path=db)) as server:
        requests.put(f"{server.url}/_emulator/typeform/forms/benevoles", json=FORM, timeout=5).raise_for_status()
        requests.post(f"{server.url}/_emulator/typeform/config", json={"responses_lag": 0}, timeout=5)
        requests.put(f"{server.url}/typeform/forms/benevoles/webhooks/binome", headers=AUTH, timeout=5,
                     json={"url": "http://127.0.0.1:9/hook", "enabled": False}).raise_for_status()
        token = requests.post(f"{server.url}/_emulator/typeform/benevoles/submit", json={"answers": ANSWERS},
                              timeout=5).json()["token"]
        SendGridAPIClient(api_key="SG.t", host=f"{server.url}/sendgrid").send(Mail(
            from_email="binome@example.org", to_emails="lea@exemple.fr", subject="Bienvenue",
            html_content="<p>Bonjour</p>"))
        envelope = envelopes_api(server.url).create_envelope(ACCOUNT, envelope_definition=EnvelopeDefinition(
            template_id="convention-benevole", status="sent",
            template_roles=[TemplateRole(role_name="Bénévole", name="Léa", email="lea@exemple.fr")]))
        requests.post(f"{server.url}/_emulator/envelopes/{envelope.envelope_id}/complete", timeout=5).raise_for_status()

    with BackgroundServer(create_app(db_path=db)) as server:
        assert requests.get(f"{server.url}/typeform/forms/benevoles", headers=AUTH, timeout=5).json()["title"] == FORM["title"]
        hooks = requests.get(f"{server.url}/typeform/forms/benevoles/webhooks", headers=AUTH, timeout=5).json()
        assert [h["tag"] for h in hooks["items"]] == ["binome"]
        responses = requests.get(f"{server.url}/typeform/forms/benevoles/responses", headers=AUTH, timeout=5).json()
        assert [r["token"] for r in responses["items"]] == [token]
        [message] = requests.get(f"{server.url}/_emulator/outbox", timeout=5).json()["messages"]
        assert message["subject"] == "Bienvenue"
        [stored] = requests.get(f"{server.url}/_emulator/envelopes", timeout=5).json()["envelopes"]
        assert (stored["envelopeId"], stored["status"]) == (envelope.envelope_id, "completed")
