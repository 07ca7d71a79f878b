"""Intake through the local stack, with Airtable's 5 requests/s limit on, as in production.

- Airtable requests per sign-up, per form (counted by the emulator);
- a burst of volunteer sign-ups (`BURST`, default 100; the collective's 2,000 take ~20 minutes at
  5 requests/s) against the ceiling that limit allows: 5 requests/s ÷ requests per sign-up.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests

from emulators.server import quiet_request_logs
from local.campaign import Campaign
from local.emulator import EmulatorControl
from local.stack import LocalStack
from shared import bootstrap
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import isolated_settings
from shared.typeform_client import TypeformClient


def airtable_requests(url: str) -> int:
    stats = requests.get(f"{url}/_emulator/stats", timeout=10).json()["requests"]
    return sum(n for key, n in stats.items() if key.startswith("airtable"))


def submit_and_settle(url: str, form_id: str, answers: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for one in answers:
        requests.post(f"{url}/_emulator/typeform/{form_id}/submit", json={"answers": one}, timeout=30).raise_for_status()
    requests.post(f"{url}/_emulator/deliveries/wait", json={"timeout": 3600}, timeout=3700).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    quiet_request_logs()
    burst = int(os.environ.get("BURST", "100"))
    with LocalStack(isolated_settings(), airtable_rate_limit=AIRTABLE_REQUESTS_PER_SECOND,
                    time_scale=1e-3) as stack:
        settings, url = stack.settings, stack.emulators.url
        control = EmulatorControl(url)
        control.ensure_base(settings.AIRTABLE_BASE_ID)
        provision(bootstrap.gateway())
        publish(settings, TypeformClient(settings), control.create_form)
        ids, campaign = settings.form_ids, Campaign(seed=11)
        print("Intake through the local stack (Airtable limit on: 5 requests/s per base):")
        for kind, answers in (("volunteer", campaign.volunteer(0)), ("structure", campaign.structure(0))):
            before = airtable_requests(url)
            submit_and_settle(url, ids[kind], [answers])
            extra = f" ({answers['pupil_count']} pupils)" if kind == "structure" else ""
            print(f"  Airtable requests for one {kind} sign-up{extra}: {airtable_requests(url) - before}")
        volunteers = [campaign.volunteer(n) for n in range(1, burst + 1)]
        before = airtable_requests(url)
        seconds = submit_and_settle(url, ids["volunteer"], volunteers)
        used = airtable_requests(url) - before
        per_signup = used / burst
        ceiling = AIRTABLE_REQUESTS_PER_SECOND / per_signup
        errors = requests.get(f"{url}/_emulator/stats", timeout=10).json()["errors"]
        print(f"  burst of {burst} sign-ups: {seconds:.1f} s = {burst / seconds:.2f} sign-ups/s, "
              f"{per_signup:.2f} requests each; ceiling at 5 req/s = {ceiling:.2f} sign-ups/s "
              f"({burst / seconds / ceiling:.0%} of it); 429 answers: {errors.get('airtable 429', 0)}")


if __name__ == "__main__":
    main()
