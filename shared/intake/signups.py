"""New or known, decided from durable state: what a sign-up writes to its person's record.

Pure. A record keeps the token of the response that created it (`first_token`) and of the last
one applied to it (`typeform_token`, submitted at `last_response_at`), so every attempt at the
same response reaches the same conclusion, whatever happened to the attempts before it:

- no record with this email: a new person, created with this response's token;
- a record whose first token is this response's: new as well (an earlier attempt created it);
- any other record: a known person signing up again, and only the fields that changed are written.

A response already applied (the record holds its token), or older than the record's last response,
writes nothing: an old answer never overwrites a newer one, nor a coordinator's edit since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Generic, Sequence, TypeVar

from schemas.records import Structure, Volunteer
from shared.airtable.diff import changes_to, partial
from shared.errors import BinomeError

R = TypeVar("R", Volunteer, Structure)


class TwinRecords(BinomeError):
    """Several records share the email of a sign-up (Airtable cannot enforce unique keys)."""

    def __init__(self, email: str, record_ids: list[str]):
        super().__init__(f"{len(record_ids)} fiches ont la même adresse email : {', '.join(record_ids)}.")
        self.email = email
        self.record_ids = record_ids


@dataclass
class SignUp(Generic[R]):
    new: bool  # this response made the record
    current: R | None = None  # the record as it was read, if there was one
    create: R | None = None  # the record to create
    update: R | None = None  # the partial update of `current`
    applied: bool = False  # the record already holds this response
    stale: bool = False  # the record holds a newer response

    @property
    def writes(self) -> bool:
        return self.create is not None or self.update is not None

    def with_intents(self, intents: dict[str, Any]) -> "SignUp[R]":
        """The same plan, also writing `intents` (what the sign-up owes the person, for
        onboarding) — in the same request as the answers, so neither can be had without the other.
        A response already applied or superseded owes nothing new."""
        if not intents or self.applied or self.stale:
            return self
        if self.create is not None:
            return replace(self, create=self.create.model_copy(update=intents))
        assert self.current is not None
        desired = (self.update or partial(self.current, set(), self.current.record_id)).model_copy(update=intents)
        return replace(self, update=changes_to(desired, self.current))


def plan_sign_up(incoming: R, existing: Sequence[R], token: str, submitted_at: dt.datetime) -> SignUp[R]:
    """What to write for the response `token` carrying `incoming`, given the records with its email."""
    if len(existing) > 1:
        raise TwinRecords(incoming.email, [r.record_id or "?" for r in existing])
    if not existing:
        created = incoming.model_copy(update={"first_token": token, "typeform_token": token,
                                              "registered_at": submitted_at, "last_response_at": submitted_at})
        return SignUp(new=True, create=created)
    [current] = existing
    new = current.first_token == token
    if current.typeform_token == token:
        return SignUp(new=new, current=current, applied=True)
    if current.last_response_at is not None and submitted_at < current.last_response_at:
        return SignUp(new=new, current=current, stale=True)
    desired = incoming.model_copy(update={"typeform_token": token, "last_response_at": submitted_at})
    return SignUp(new=new, current=current, update=changes_to(desired, current))
