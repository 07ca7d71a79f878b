"""The daily check-ins of live binômes (`follow_up`): each side is asked how it is going on the
schedule of `schedule.Rhythm`, reminded once, and coordinators are alerted when a binôme needs them.

For each binôme « Actif » or « En difficulté »:
- on the latest check-in date, the mentor and the structure each get the check-in form, the
  binôme and who answers as hidden fields — once (a claim per binôme, date and side), and only the
  latest date after days without a run;
- a week after it was sent (`Suivi demandé le`), whoever has not answered gets one reminder;
- alerts (on the binôme's `Alerte`, and one email to the coordinators): a worrying check-in (« Difficile »,
  « Très difficile », or help asked), two check-ins in a row that nobody answered, no session
  reported three weeks after the start;
- `Prochain suivi` is written where it changed.
Everything is read in paged requests and written only where something changed: a binôme already
asked (`Suivi demandé le`), reminded (`Suivi rappelé le`) or flagged (its `Alerte` says it) costs
no request on later runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence
from urllib.parse import quote

from schemas import options as opt
from schemas.records import CheckIn, Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.alerts import Alerts
from shared.claims import Job, claim
from shared.clock import now as utcnow
from shared.followup.schedule import Rhythm, paris_day
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render
from shared.pairs import is_worrying
from shared.settings import Settings

log = logging.getLogger(__name__)
FOLLOWED = {opt.PairStatus.ACTIVE.value, opt.PairStatus.AT_RISK.value}
SIDES = (opt.CheckInAuthor.MENTOR, opt.CheckInAuthor.STRUCTURE)


@dataclass
class CheckInReport:
    asked: int = 0
    reminded: int = 0
    alerts: int = 0
    scheduled: int = 0  # `Prochain suivi` written

    def line(self) -> str:
        return (f"Points d'étape : {self.asked} demande(s), {self.reminded} rappel(s), {self.alerts} alerte(s), "
                f"{self.scheduled} date(s) de prochain suivi écrite(s).")


@dataclass
class People:
    """Who a binôme's emails go to, read once for the whole run."""

    volunteers: dict[str, Volunteer] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)
    needs: dict[str, Need] = field(default_factory=dict)


@dataclass(frozen=True)
class Ask:
    pair: Pair
    side: opt.CheckInAuthor
    due: dt.date
    reminder: bool


class CheckIns:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, alerts: Alerts, settings: Settings,
                 rhythm: Rhythm = Rhythm(), clock: Callable[[], dt.datetime] = utcnow, base: str = ""):
        self.gateway = gateway
        self.base = base  # with several bases, the link names the binôme's base (a hidden field)
        self.mailer = mailer
        self.alerts = alerts
        self.settings = settings
        self.rhythm = rhythm
        self.clock = clock

    def run(self, pairs: Sequence[Pair], check_ins: Sequence[CheckIn],
            people: Callable[[list[Pair]], People]) -> CheckInReport:
        """`people` reads who the emails of these binômes go to (only when there are some to send)."""
        now = self.clock()
        today = paris_day(now)
        report = CheckInReport()
        by_pair: dict[str, list[CheckIn]] = {}
        for check_in in check_ins:
            if check_in.pair and check_in.date is not None:
                by_pair.setdefault(check_in.pair[0], []).append(check_in)
        asks: list[Ask] = []
        values: dict[str, dict[str, object]] = {}
        found: list[tuple[Pair, str, str]] = []  # alerts: binôme, cause, text
        followed = {p.record_id: p for p in pairs
                    if p.status in FOLLOWED and p.started_on is not None and p.record_id}
        for pair in followed.values():
            assert pair.started_on is not None and pair.record_id is not None
            answers = sorted(by_pair.get(pair.record_id, []), key=lambda c: c.date or dt.date.min)
            asks += self._asks(pair, answers, today)
            values[pair.record_id] = {"next_check_in": self.rhythm.next(pair.started_on, today)}
            found += [(pair, cause, text) for cause, text in self._alerts(pair, answers, today)
                      if text not in pair.alert]  # already on the binôme: raised on an earlier day
        raised = self.alerts.raise_all([(cause, f"Binôme à suivre : {pair.name}", text, "")
                                        for pair, cause, text in found])
        for (pair, _, text), now_raised in zip(found, raised):
            if now_raised:
                report.alerts += 1
                current = str(values[pair.record_id or ""].get("alert", pair.alert))
                values[pair.record_id or ""]["alert"] = "\n".join(filter(None, [current, text]))
        for ask in self._ask(asks, people):
            report.asked += not ask.reminder
            report.reminded += ask.reminder
            values[ask.pair.record_id or ""]["reminded_on" if ask.reminder else "asked_on"] = today
        updates = []
        for pair_id, changes in values.items():
            update = update_of(followed[pair_id], changes)
            if update is not None:
                updates.append(update)
                report.scheduled += "next_check_in" in update.model_fields_set
        self.gateway.update(updates)
        return report

    def _asks(self, pair: Pair, answers: list[CheckIn], today: dt.date) -> list[Ask]:
        """The emails this binôme is owed today: the latest check-in to each side that has not
        answered it, unless already asked; a week after asking, its one reminder."""
        assert pair.started_on is not None
        latest = self.rhythm.latest(pair.started_on, today)
        if latest is None:
            return []
        due = latest[1]
        silent = [side for side in SIDES
                  if not any(c.author == side and c.date is not None and c.date >= due for c in answers)]
        asked_on = pair.asked_on if pair.asked_on is not None and pair.asked_on >= due else None
        if asked_on is None:
            return [Ask(pair, side, due, reminder=False) for side in silent]
        reminded = pair.reminded_on is not None and pair.reminded_on >= asked_on
        if reminded or today < asked_on + self.rhythm.remind_after:
            return []
        return [Ask(pair, side, due, reminder=True) for side in silent]

    # --- asking -------------------------------------------------------------------------------

    def _ask(self, asks: list[Ask], people: Callable[[list[Pair]], People]) -> list[Ask]:
        """Claim each email (a check-in, or its one reminder a week after it was sent), send the
        ones this run owns; those sent."""
        jobs = [Job(f"{'rappel-suivi' if a.reminder else 'suivi'}:{a.pair.record_id}:{a.due}:{a.side.name.lower()}",
                    f"{'Rappel de point' if a.reminder else 'Point'} d'étape : {a.pair.name} ({a.side})") for a in asks]
        to_send = [ask for ask, claimed in zip(asks, claim(self.gateway, jobs)) if claimed.owned]
        if not to_send:
            return []
        known = people([ask.pair for ask in to_send])
        return [ask for ask in to_send if self._send(ask, known)]

    def _send(self, ask: Ask, people: People) -> bool:
        pair = ask.pair
        volunteer = people.volunteers.get(pair.volunteer[0]) if pair.volunteer else None
        structure = people.structures.get(pair.structure[0]) if pair.structure else None
        need = people.needs.get(pair.need[0]) if pair.need else None
        if volunteer is None or structure is None or need is None:
            log.warning("check-in for %s: its volunteer, structure or need is missing", pair.record_id)
            return False
        if ask.side == opt.CheckInAuthor.MENTOR:
            to, name, other = volunteer.email, volunteer.full_name, structure.name
        else:
            to, name, other = structure.email, structure.contact, volunteer.first_name
        link = (f"{self.settings.form_display_url}/{self.settings.TYPEFORM_FORM_CHECKIN}"
                f"#binome={quote(pair.record_id or '')}&par={quote(ask.side.value)}"
                + (f"&base={quote(self.base)}" if self.base else ""))
        rendered = render("check_in", need=need, person=name, other=other, link=link, reminder=ask.reminder,
                          due=f"{ask.due:%d/%m/%Y}", started=f"{pair.started_on:%d/%m/%Y}")
        try:
            self.mailer.send(Email(to=to, to_name=name, subject=rendered.subject, html=rendered.html,
                                   text=rendered.text, category="suivi",
                                   custom_args={"binome_email": "suivi", "binome_record": pair.record_id or ""}))
            return True
        except MailError as exc:
            log.warning("check-in email for %s not sent: %s", pair.record_id, exc)
            return False

    # --- alerts -------------------------------------------------------------------------------

    def _alerts(self, pair: Pair, answers: list[CheckIn], today: dt.date) -> list[tuple[str, str]]:
        """The alerts this binôme calls for (cause, what its `Alerte` says); each is raised once, ever."""
        assert pair.started_on is not None
        found: list[tuple[str, str]] = []
        # Every worrying check-in, not only the newest: one side asking for help is news even when
        # the other side's later answer is fine, and so is one that arrives late.
        # Not the words intake writes on the binôme when the check-in lands (`pairs.alert_for`):
        # those say what happened, these that the coordinators were told.
        for worrying in (c for c in answers if is_worrying(c)):
            found.append((f"suivi-difficile:{pair.record_id}:{worrying.record_id}",
                          f"Coordination alertée : point du {worrying.date:%d/%m/%Y} "
                          f"({worrying.author or 'auteur inconnu'} : {worrying.mood or 'sans avis'}"
                          + (", besoin d'aide demandé)" if worrying.needs_help else ")")))
        missed = self._missed_in_a_row(pair.started_on, answers, today)
        if missed >= self.rhythm.missed_for_alert:
            found.append((f"suivis-manques:{pair.record_id}:{missed}",
                          f"{missed} points d'étape de suite sans réponse de personne."))
        if today >= pair.started_on + self.rhythm.first_session_within \
                and not any((c.sessions or 0) > 0 for c in answers):
            found.append((f"sans-seance:{pair.record_id}",
                          f"Aucune séance déclarée {self.rhythm.first_session_within.days} jours après le début "
                          f"({pair.started_on:%d/%m/%Y})."))
        return found

    def _missed_in_a_row(self, started_on: dt.date, answers: list[CheckIn], today: dt.date) -> int:
        """Closed check-in windows (the next date has come), latest first, that nobody answered."""
        latest = self.rhythm.latest(started_on, today)
        if latest is None:
            return 0
        missed = 0
        for n in range(latest[0] - 1, -1, -1):
            opens, closes = self.rhythm.due(started_on, n), self.rhythm.due(started_on, n + 1)
            if any(c.date is not None and opens <= c.date < closes for c in answers):
                break
            missed += 1
        return missed
