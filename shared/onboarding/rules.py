"""The rules of onboarding, pure: what a sign-up owes a person (an acknowledgement, an agreement or
a charter to sign), when an owed send is due, and how vendors' events move the statuses — forward
only, whatever order the events arrive in.

The person's record is the outbox: an owed send is written there (« À envoyer », with the time it
was prepared) in the same request as the sign-up, before any vendor is called, so that no crash
can forget it; the outcome is written there after the call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from schemas import options as opt
from schemas.records import Structure, Volunteer

Person = TypeVar("Person", Volunteer, Structure)

FIRST_RETRY = dt.timedelta(minutes=5)
LONGEST_RETRY = dt.timedelta(hours=12)
MAX_ATTEMPTS = 8
OWED = {opt.EmailStatus.PENDING.value, opt.EmailStatus.FAILED.value}
ENVELOPE_OWED = {opt.EnvelopeStatus.PENDING.value, opt.EnvelopeStatus.FAILED.value}
UNUSABLE = {opt.EmailStatus.BOUNCED.value, opt.EmailStatus.DROPPED.value, opt.EmailStatus.SPAM.value}

# --- what a sign-up owes ---------------------------------------------------------------------


def sign_up_intents(new: bool, current: Person | None, token: str, now: dt.datetime) -> dict[str, Any]:
    """The attributes a sign-up writes so that what it owes the person is recorded durably.

    A new person is owed the acknowledgement and the document to sign. A known person signing up
    again gets « nous avons mis à jour votre inscription », unless the acknowledgement is still
    owed: it will carry the new answers, and nobody gets two emails for one sign-up. Someone whose
    document was never prepared (a record made before onboarding existed) is owed it now.

    Each owed email has a key (`email_key`) that every process handling the same response writes
    alike — the welcome, the update of response <token> — since the claim that makes a send happen
    once is derived from it (times differ between processes; keys must not).
    """
    intents: dict[str, Any] = {}
    if new:
        intents.update(email_status=opt.EmailStatus.PENDING, email_kind=opt.EmailKind.WELCOME, email_key="accuse",
                       email_prepared_at=now, envelope_status=opt.EnvelopeStatus.PENDING, envelope_prepared_at=now)
    else:
        assert current is not None
        welcome_owed = current.email_kind == opt.EmailKind.WELCOME and current.email_status in OWED
        if not welcome_owed and current.email_status not in UNUSABLE:
            intents.update(email_status=opt.EmailStatus.PENDING, email_kind=opt.EmailKind.UPDATE,
                           email_key=f"maj:{token}", email_prepared_at=now, email_attempts=0)
        if current.envelope_status is None:
            intents.update(envelope_status=opt.EnvelopeStatus.PENDING, envelope_prepared_at=now)
    return intents


def email_owed(person: Volunteer | Structure) -> bool:
    return person.email_status in OWED and person.email_prepared_at is not None


def envelope_owed(person: Volunteer | Structure) -> bool:
    return person.envelope_status in ENVELOPE_OWED and person.envelope_prepared_at is not None


def retry_due(prepared_at: dt.datetime | None, attempts: int | None, now: dt.datetime) -> bool:
    """A failed send is tried again 5 minutes after the failure, then doubling, at most 12 hours."""
    if prepared_at is None:
        return True
    tries = max(attempts or 0, 1)
    return prepared_at + min(FIRST_RETRY * (1 << (tries - 1)), LONGEST_RETRY) <= now


def given_up(attempts: int | None) -> bool:
    return (attempts or 0) >= MAX_ATTEMPTS


def email_job_key(person: Volunteer | Structure) -> str:
    """One owed email, one key: the same in every process and on every retry of the same attempt."""
    return f"envoi:{person.record_id}:email:{person.email_key or 'accuse'}:{person.email_attempts or 0}"


def envelope_job_key(person: Volunteer | Structure) -> str:
    """A person signs one document: one key per attempt at sending it."""
    return f"envoi:{person.record_id}:enveloppe:{person.envelope_attempts or 0}"


def claimed_by_creation(person: Volunteer | Structure) -> set[str]:
    """The sends whose claim is the record's own creation: the first welcome and the first
    envelope of a volunteer a sign-up created (`first_token`), which the creating request itself
    wrote as owed. Not a structure's: its sign-up writes its needs between the record and the
    sends (the email lists them), and a failure there would leave a claim nobody can act on; its
    sends keep claims of their own. Airtable tells exactly one upsert that it created the record, so that request's
    process owns both, with no claim of their own to write; every other process finds them claimed
    when the record was created. The keys are those the creation wrote (welcome `accuse`, first
    attempts) and no later write reuses them: an update's email has its own key (`maj:<token>`),
    a resend `renvoi:…`, a retry the next attempt. (A record made before onboarding existed and
    owed its first envelope later finds that claim old and abandoned: DocuSign is asked first,
    then the envelope is sent under a recovery claim of its own — once, later.)"""
    if not isinstance(person, Volunteer) or not person.first_token or not person.record_id:
        return set()
    return {f"envoi:{person.record_id}:email:accuse:0", f"envoi:{person.record_id}:enveloppe:0"}


# --- vendors' events, forward only -------------------------------------------------------------

EMAIL_RANK = {opt.EmailStatus.PENDING: 0, opt.EmailStatus.FAILED: 0, opt.EmailStatus.UNCERTAIN: 1,
              opt.EmailStatus.SENT: 2, opt.EmailStatus.DELIVERED: 3, opt.EmailStatus.BOUNCED: 4,
              opt.EmailStatus.DROPPED: 4, opt.EmailStatus.SPAM: 4}
SENDGRID_EVENTS = {"processed": opt.EmailStatus.SENT, "deferred": opt.EmailStatus.SENT,
                   "delivered": opt.EmailStatus.DELIVERED, "bounce": opt.EmailStatus.BOUNCED,
                   "dropped": opt.EmailStatus.DROPPED, "spamreport": opt.EmailStatus.SPAM}
ENVELOPE_RANK = {opt.EnvelopeStatus.PENDING: 0, opt.EnvelopeStatus.FAILED: 0, opt.EnvelopeStatus.SENT: 1,
                 opt.EnvelopeStatus.SIGNED: 2, opt.EnvelopeStatus.DECLINED: 2, opt.EnvelopeStatus.VOIDED: 2}
CONNECT_EVENTS = {
    "envelope-sent": opt.EnvelopeStatus.SENT, "envelope-delivered": opt.EnvelopeStatus.SENT,
    "envelope-resent": opt.EnvelopeStatus.SENT, "recipient-sent": opt.EnvelopeStatus.SENT,
    "recipient-delivered": opt.EnvelopeStatus.SENT, "recipient-resent": opt.EnvelopeStatus.SENT,
    "envelope-completed": opt.EnvelopeStatus.SIGNED, "recipient-completed": opt.EnvelopeStatus.SIGNED,
    "envelope-declined": opt.EnvelopeStatus.DECLINED, "recipient-declined": opt.EnvelopeStatus.DECLINED,
    "envelope-voided": opt.EnvelopeStatus.VOIDED,
}
DOCUSIGN_STATUSES = {"sent": opt.EnvelopeStatus.SENT, "delivered": opt.EnvelopeStatus.SENT,
                     "completed": opt.EnvelopeStatus.SIGNED, "declined": opt.EnvelopeStatus.DECLINED,
                     "voided": opt.EnvelopeStatus.VOIDED}


def _rank(ranks: dict[Any, int], current: str | None) -> int:
    return next((rank for status, rank in ranks.items() if status == current), 0)


def email_after(current: str | None, event: str) -> opt.EmailStatus | None:
    """The email status an event moves to, or None: unknown event, or not a step forward (a late
    « processed » never undoes « delivered »; a bounce after delivery does count)."""
    new = SENDGRID_EVENTS.get(event)
    if new is None:
        return None
    return new if EMAIL_RANK[new] > _rank(EMAIL_RANK, current) else None


def envelope_after(current: str | None, status: opt.EnvelopeStatus | None) -> opt.EnvelopeStatus | None:
    """The envelope status to write, or None: a late « sent » never overwrites « signed »."""
    if status is None:
        return None
    return status if ENVELOPE_RANK[status] > _rank(ENVELOPE_RANK, current) else None


VOLUNTEER_FORWARD = {
    opt.EnvelopeStatus.SENT: ({None, opt.VolunteerStatus.REGISTERED.value}, opt.VolunteerStatus.AGREEMENT_SENT),
    opt.EnvelopeStatus.SIGNED: ({None, opt.VolunteerStatus.REGISTERED.value, opt.VolunteerStatus.AGREEMENT_SENT.value},
                                opt.VolunteerStatus.AVAILABLE),
}


def volunteer_status_after(current: str | None, envelope: opt.EnvelopeStatus) -> opt.VolunteerStatus | None:
    """Forward only, and never over a coordinator's « En pause » or « Parti »."""
    rule = VOLUNTEER_FORWARD.get(envelope)
    if rule is None or current not in rule[0]:
        return None
    return rule[1]
