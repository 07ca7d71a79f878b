"""Intake and onboarding through the local stack, with Airtable's 5 requests/s limit on (and its
penalty after a 429), as in production.

- Airtable requests per sign-up, per form: intake's and onboarding's own (vendors' events
  unplugged), then what the vendors' events about that sign-up add (DocuSign's « sent », SendGrid's
  batch); vendor calls per sign-up (counted by the emulators);
- a burst of volunteer sign-ups (`BURST`, default 100), events included, against the ceiling the
  limit allows: 5 requests/s ÷ requests per sign-up.
"""

from __future__ import annotations

import os
import time
from typing import Any


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


def counts(control: EmulatorControl) -> dict[str, int]:
    stats = control.call("GET", "/stats")["requests"]
    return {service: sum(n for key, n in stats.items() if key.startswith(service))
            for service in ("airtable", "sendgrid", "docusign")}


def submit_and_settle(control: EmulatorControl, form_id: str, answers: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for one in answers:
        control.call("POST", f"/typeform/{form_id}/submit", json={"answers": one})
    control.call("POST", "/deliveries/wait", json={"timeout": 3600}, timeout=3700)
    return time.perf_counter() - started


def one_sign_up(control: EmulatorControl, stack: LocalStack, form_id: str, answers: dict[str, Any]) -> str:
    control.call("POST", "/config", json={"sendgrid_event_url": None, "docusign_connect_url": None})
    before = counts(control)
    submit_and_settle(control, form_id, [answers])
    own = counts(control)
    control.call("POST", "/config", json=stack.vendor_webhooks)
    return (f"{own['airtable'] - before['airtable']} Airtable requests (intake and onboarding), "
            f"{own['sendgrid'] - before['sendgrid']} SendGrid call(s), {own['docusign'] - before['docusign']} "
            "DocuSign call(s)")


def main() -> None:
    quiet_request_logs()
    burst = int(os.environ.get("BURST", "100"))
    with LocalStack(isolated_settings(), airtable_rate_limit=AIRTABLE_REQUESTS_PER_SECOND,
                    time_scale=1e-3) as stack:
        settings, control = stack.settings, EmulatorControl(stack.emulators.url)
        control.ensure_base(settings.AIRTABLE_BASE_ID)
        provision(bootstrap.gateway())
        publish(settings, TypeformClient(settings), control.create_form)
        ids, campaign = settings.form_ids, Campaign(seed=11)
        print("Intake and onboarding through the local stack (Airtable limit on: 5 requests/s per base, "
              "with its penalty):")
        for kind, answers in (("volunteer", campaign.volunteer(0)), ("structure", campaign.structure(0))):
            extra = f" ({answers['pupil_count']} pupils)" if kind == "structure" else ""
            print(f"  one {kind} sign-up{extra}: {one_sign_up(control, stack, ids[kind], answers)}")
        before = counts(control)
        submit_and_settle(control, ids["volunteer"], [campaign.volunteer(1)])
        with_events = counts(control)["airtable"] - before["airtable"]
        print(f"  one volunteer sign-up with its vendors' events (DocuSign « sent », SendGrid's batch): "
              f"{with_events} Airtable requests")
        volunteers = [campaign.volunteer(n) for n in range(2, burst + 2)]
        before = counts(control)
        seconds = submit_and_settle(control, ids["volunteer"], volunteers)
        used = counts(control)["airtable"] - before["airtable"]
        per_signup = used / burst
        ceiling = AIRTABLE_REQUESTS_PER_SECOND / per_signup
        errors = control.call("GET", "/stats")["errors"]
        print(f"  burst of {burst} sign-ups, events included: {seconds:.1f} s = {burst / seconds:.2f} sign-ups/s, "
              f"{per_signup:.2f} Airtable requests each; ceiling at 5 req/s = {ceiling:.2f} sign-ups/s "
              f"({burst / seconds / ceiling:.0%} of it); 429 answers: {errors.get('airtable 429', 0)}")


if __name__ == "__main__":
    main()
