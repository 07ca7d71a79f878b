"""The local stack: emulators on one port, the functions on another, in one process.

With the demo, this runner is the only place that knows both sides: the emulators (vendor
stand-ins) and the functions of `main.py`. `make run` serves them in the foreground; tests and the
demo start the same stack on free ports with `LocalStack`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from emulators.airtable.api import PENALTY_SECONDS
from emulators.app import EmulatorOptions, create_app
from emulators.server import BackgroundServer, quiet_request_logs
from shared import bootstrap
from shared.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "var" / "binome.sqlite3"


def functions_app() -> Any:
    """Every entry point of main.py under `/<name>/`, and an index at `/`."""
    from functions_framework import create_app as create_function_app

    import main

    index = Flask("functions")

    @index.get("/")
    def list_functions() -> Response:
        return Response(json.dumps({"functions": [f"/{name}/" for name in main.ENTRY_POINTS]}),
                        mimetype="application/json")

    mounts = {f"/{name}": create_function_app(name, str(ROOT / "main.py")).wsgi_app
              for name in main.ENTRY_POINTS}
    index.wsgi_app = DispatcherMiddleware(index.wsgi_app, mounts)  # type: ignore[method-assign]
    return index


def webhooks_to(functions_url: str) -> dict[str, Any]:
    """Where the stand-ins deliver their webhooks: the functions at `functions_url`, with the Connect
    configuration `deploy/` gives DocuSign (custom fields included, so events name their record)."""
    return {"sendgrid_event_url": f"{functions_url}/sendgrid_events/",
            "docusign_connect_url": f"{functions_url}/docusign_connect/",
            "docusign_connect_include_data": ["custom_fields"]}


class LocalStack:
    """Both servers, bound at construction (port 0 picks a free one), wired to each other: the
    functions run on `settings` with these ports, and the emulators deliver their webhooks to
    these functions, signed with the same secrets."""

    def __init__(self, settings: Settings, *, emulator_port: int = 0, functions_port: int = 0,
                 db: str = ":memory:", airtable_rate_limit: float | None = 5.0, time_scale: float = 1 / 60):
        options = EmulatorOptions(
            db_path=db, airtable_rate_limit=airtable_rate_limit, time_scale=time_scale,
            docusign_connect_key=settings.DOCUSIGN_CONNECT_KEY,
            docusign_template_volunteer=settings.DOCUSIGN_TEMPLATE_VOLUNTEER,
            docusign_template_charter=settings.DOCUSIGN_TEMPLATE_CHARTER)
        self.emulators = BackgroundServer(create_app(options), emulator_port)
        self.functions = BackgroundServer(functions_app(), functions_port)
        self._previous: Settings | None = None
        wiring: dict[str, Any] = {"BINOME_EMULATOR_PORT": self.emulators.port,
                                  "BINOME_FUNCTIONS_PORT": self.functions.port}
        if "BINOME_AIRTABLE_PENALTY" not in settings.model_fields_set:
            # The stand-in compresses Airtable's 30-second penalty like every other delay; the
            # functions wait out the same compressed penalty.
            wiring["BINOME_AIRTABLE_PENALTY"] = PENALTY_SECONDS * time_scale
        self.settings = settings.rebuilt(**wiring)
        self.emulators.app.extensions["emulators"].configure(self.vendor_webhooks)

    @property
    def vendor_webhooks(self) -> dict[str, Any]:
        return webhooks_to(self.functions.url)

    def start(self) -> "LocalStack":
        self._previous = bootstrap.configure(self.settings)  # this process's functions serve these settings
        self.emulators.start()
        self.functions.start()
        return self

    def stop(self) -> None:
        self.functions.stop()
        self.emulators.stop()
        bootstrap.configure(self._previous)

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(description="Sert la pile locale (émulateurs et fonctions).")
    parser.add_argument("--db", default=str(DEFAULT_DB), help="fichier SQLite des émulateurs")
    args = parser.parse_args(argv)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    quiet_request_logs()
    try:
        stack = LocalStack(settings, emulator_port=settings.BINOME_EMULATOR_PORT,
                           functions_port=settings.BINOME_FUNCTIONS_PORT, db=args.db)
    except OSError as exc:
        print(f"Impossible d'ouvrir les ports {settings.BINOME_EMULATOR_PORT}/"
              f"{settings.BINOME_FUNCTIONS_PORT} : {exc}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with stack:
        print(f"Prêt : console et émulateurs sur {stack.emulators.url}/, "
              f"fonctions sur {stack.functions.url}. Ctrl-C pour arrêter.", flush=True)
        try:
            stopping.wait()
        except KeyboardInterrupt:
            pass
    print("Arrêté.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
