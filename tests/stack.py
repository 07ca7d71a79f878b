"""A running local stack for end-to-end tests: emulators and functions on free ports, the base
provisioned and the forms published, the environment pointing at it (and restored after)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator

import requests

from emulators.server import quiet_request_logs
from emulators.stack import LocalStack
from shared import bootstrap
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.provision import ensure_local_base, provision
from shared.publish_forms import publish
from shared.settings import Settings, get_settings
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
        """An empty, provisioned base with the forms published and their webhooks registered."""
        self.control("POST", "/reset")
        self.control("POST", "/airtable/config", json={"rate_limit": None})
        ensure_local_base(self.settings)
        provision(self.gateway)
        publish(self.settings, TypeformClient(self.settings))


def running_stack() -> Iterator[Running]:
    saved = dict(os.environ)
    os.environ["BINOME_AIRTABLE_RATE"] = "1000"
    quiet_request_logs()
    try:
        with LocalStack(airtable_rate_limit=None, time_scale=1e-4) as stack:
            bootstrap.reset()
            settings = get_settings()
            yield Running(stack, settings, AirtableGateway(settings, pacer=RequestPacer(limit=1000)))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.reset()
