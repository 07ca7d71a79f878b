"""A running local stack for end-to-end tests: emulators and functions on free ports, the base
provisioned and the forms published, the process's functions running on settings built for it
(never on the environment's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import requests

from emulators.server import quiet_request_logs
from local.emulator import EmulatorControl
from local.stack import LocalStack
from shared import bootstrap
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import Settings, isolated_settings
from shared.signatures import sign_typeform
from shared.typeform_client import TypeformClient


@dataclass
class Running:
    stack: LocalStack
    settings: Settings
    gateway: AirtableGateway  # a test's own view of the base, unpaced

    @property
    def emulator_url(self) -> str:
        return self.stack.emulators.url

    @property
    def functions_url(self) -> str:
        return self.stack.functions.url

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.emulator_url}/_emulator{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def form_id(self, kind: str) -> str:
        return self.settings.form_ids[kind]

    def submit(self, kind: str, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return self.control("POST", f"/typeform/{self.form_id(kind)}/submit", json={"answers": answers, **extra})

    def deliveries(self, service: str = "typeform") -> list[dict[str, Any]]:
        """The stand-ins' webhook deliveries of one vendor."""
        return [d for d in self.control("GET", "/deliveries")["deliveries"] if d["service"] == service]

    def unplug_vendor_events(self) -> None:
        """No SendGrid or DocuSign events come back (tests that count the sign-up's own requests)."""
        self.control("POST", "/config", json={"sendgrid_event_url": None, "docusign_connect_url": None})

    def settle(self, timeout: float = 30) -> None:
        assert self.control("POST", "/deliveries/wait", json={"timeout": timeout})["idle"]

    def post_webhook(self, body: bytes, signature: str | None = "sign") -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["Typeform-Signature"] = sign_typeform(self.settings.TYPEFORM_SECRET, body)
        elif signature is not None:
            headers["Typeform-Signature"] = signature
        return requests.post(f"{self.functions_url}/typeform_webhook/", data=body, headers=headers, timeout=30)

    def reset(self) -> None:
        """An empty, provisioned base with the forms published and their webhooks registered, and
        the process's functions on this stack's settings."""
        bootstrap.configure(self.settings)
        control = EmulatorControl(self.emulator_url)
        control.call("POST", "/reset")
        control.call("POST", "/config", json=self.stack.vendor_webhooks)
        control.airtable_config(rate_limit=None)
        control.ensure_base(self.settings.AIRTABLE_BASE_ID)
        provision(self.gateway)
        publish(self.settings, TypeformClient(self.settings), control.create_form)


def running_stack() -> Iterator[Running]:
    quiet_request_logs()
    with LocalStack(isolated_settings(BINOME_AIRTABLE_RATE=1000), airtable_rate_limit=None,
                    time_scale=1e-4) as stack:
        settings = stack.settings
        yield Running(stack, settings, AirtableGateway(settings, pacer=RequestPacer(limit=1000)))
