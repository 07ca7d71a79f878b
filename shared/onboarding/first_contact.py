"""« Premier contact fait »: the link an antenna's coordinator follows from the daily list.

The link names one volunteer and one antenna, signed and valid for 45 days. Opening it shows a
page and a button (mail scanners open links; only the button's POST writes); recording twice
changes nothing. A link for a volunteer since moved to another antenna is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from schemas.records import Volunteer
from shared.airtable import AirtableGateway, AirtableRejected
from shared.airtable.diff import update_of
from shared.clock import now as utcnow
from shared.links import LinkRefused, Links
from shared.clock import PARIS
from shared.onboarding.daily import FIRST_CONTACT, FIRST_CONTACT_LINK_DAYS
from shared.pages import message, page

TITLE = "Premier contact"


@dataclass
class Page:
    status: int
    html: str


class FirstContact:
    def __init__(self, gateway: AirtableGateway, links: Links, clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.links = links
        self.clock = clock

    def show(self, token: str) -> Page:
        try:
            volunteer = self._volunteer(token)
        except LinkRefused as exc:
            return Page(400, message(TITLE, str(exc)))
        return Page(200, page("first_contact", title=TITLE, person=volunteer, token=token,
                              done_on=_french(volunteer.first_contact_on)))

    def record(self, token: str) -> Page:
        try:
            volunteer = self._volunteer(token)
        except LinkRefused as exc:
            return Page(400, message(TITLE, str(exc)))
        if volunteer.first_contact_on is None:
            today = self.clock().astimezone(PARIS).date()
            update = update_of(volunteer, {"first_contact_on": today})
            if update is not None:
                self.gateway.update([update])
            return Page(200, message("Merci, c'est noté", f"Le premier contact avec {volunteer.first_name} est "
                                     f"enregistré ({today:%d/%m/%Y}). {volunteer.first_name} sort de votre liste."))
        return Page(200, message("Déjà noté", f"Le premier contact avec {volunteer.first_name} était déjà enregistré "
                                 f"(le {_french(volunteer.first_contact_on)}). Rien n'a changé."))

    def _volunteer(self, token: str) -> Volunteer:
        claims = self.links.read(FIRST_CONTACT, token, max_age=FIRST_CONTACT_LINK_DAYS * 86400)
        try:
            volunteer = self.gateway.get(Volunteer, str(claims.get("v", "")))
        except AirtableRejected:
            raise LinkRefused("Cette personne n'est plus dans la base.") from None
        if claims.get("a") not in volunteer.antenna:
            raise LinkRefused("Cette personne est désormais suivie par une autre antenne : ce lien ne vaut plus.")
        return volunteer


def _french(day: dt.date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""
