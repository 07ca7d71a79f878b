"""A client of the stand-ins' control endpoints (`/_emulator`): what only a local stack can do,
such as creating a base or a form under the id the settings name. Production has no such calls."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 30


class EmulatorControl:
    def __init__(self, emulator_url: str):
        self.url = emulator_url.rstrip("/")
        self.session = requests.Session()

    def call(self, method: str, path: str, timeout: float = TIMEOUT, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/_emulator{path}", timeout=timeout, **kwargs)
        response.raise_for_status()
        return response.json()

    def ensure_base(self, base_id: str, name: str = "binome") -> bool:
        """Make sure the local Airtable holds this base; True if it was created."""
        return bool(self.call("PUT", f"/airtable/bases/{base_id}", json={"name": name})["created"])

    def create_form(self, form_id: str, definition: dict[str, Any]) -> None:
        """Typeform picks form ids; locally the settings name them, so forms are made with one."""
        self.call("PUT", f"/typeform/forms/{form_id}", json=definition)

    def airtable_config(self, **config: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/airtable/config", json=config)
        return result

    def healthy(self) -> bool:
        try:
            return bool(self.call("GET", "/health")["ok"])
        except requests.RequestException:
            return False
