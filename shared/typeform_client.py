"""binome's small Typeform client: forms, webhooks and the Responses API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Sequence

import requests

from shared.errors import BinomeError
from shared.settings import Settings

TIMEOUT = (5, 30)
PAGE_SIZE = 1000  # the Responses API maximum
MAX_IDS = 1000  # response ids in one `included_response_ids`


class TypeformError(BinomeError):
    """Typeform refused the request or could not be reached."""


class TypeformClient:
    def __init__(self, settings: Settings):
        self.base = settings.TYPEFORM_API_URL.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {settings.TYPEFORM_TOKEN}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, f"{self.base}{path}", timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise TypeformError(f"Typeform injoignable : {type(exc).__name__}") from exc
        if response.status_code >= 400 and response.status_code != 404:
            raise TypeformError(f"Typeform a répondu {response.status_code} : {response.text[:300]}")
        return response

    def form(self, form_id: str) -> dict[str, Any] | None:
        response = self._call("GET", f"/forms/{form_id}")
        return None if response.status_code == 404 else _object(response)

    def create_form(self, definition: dict[str, Any]) -> dict[str, Any]:
        return _object(self._call("POST", "/forms", json=definition))

    def replace_form(self, form_id: str, definition: dict[str, Any]) -> dict[str, Any]:
        response = self._call("PUT", f"/forms/{form_id}", json=definition)
        if response.status_code == 404:
            raise TypeformError(f"Formulaire {form_id} introuvable")
        return _object(response)

    def put_webhook(self, form_id: str, tag: str, url: str, secret: str, verify_ssl: bool) -> dict[str, Any]:
        return _object(self._call("PUT", f"/forms/{form_id}/webhooks/{tag}", json={
            "url": url, "enabled": True, "secret": secret, "verify_ssl": verify_ssl,
            "event_types": {"form_response": True}}))

    def responses(self, form_id: str, since: dt.datetime | None = None, query: str | None = None,
                  ids: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
        """Every completed response since `since` (that mentions `query`, among `ids`), newest
        first, page after page."""
        params: dict[str, Any] = {"page_size": PAGE_SIZE, "completed": "true"}
        if query:
            params["query"] = query
        if ids:
            params["included_response_ids"] = ",".join(ids)
        if since is not None:
            params["since"] = since.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        while True:
            response = self._call("GET", f"/forms/{form_id}/responses", params=params)
            if response.status_code == 404:
                raise TypeformError(f"Formulaire {form_id} introuvable")
            items = response.json().get("items", [])
            yield from items
            if len(items) < PAGE_SIZE:
                return
            params["before"] = items[-1]["token"]


    def delete_responses(self, form_id: str, ids: Sequence[str]) -> None:
        """Delete these responses of the form (Typeform ignores ids it does not hold)."""
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), MAX_IDS):
            chunk = ",".join(wanted[start:start + MAX_IDS])
            response = self._call("DELETE", f"/forms/{form_id}/responses", params={"included_response_ids": chunk})
            if response.status_code == 404:
                raise TypeformError(f"Formulaire {form_id} introuvable")


def _object(response: requests.Response) -> dict[str, Any]:
    """The JSON object of an answer; anything else is Typeform failing us."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TypeformError(f"Typeform a répondu {response.status_code} sans objet JSON")
    return body
